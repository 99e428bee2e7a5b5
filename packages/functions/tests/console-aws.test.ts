// The console API as a stage wires it (wiring/console.ts): the ops routes on the SQS emulator through the real SDK
// (dead letters with the consumer's reasons, replay of exactly the confirmed ids, depth), the oldest message's age
// and recent rejections from CloudWatch GetMetricData — a fake for that control-plane call only, which also checks
// what is asked — and an upload that is kept under uploads/ and reconciled by the upload function's handler on a
// real database, through the Lambda invoke adapter's payload encoding.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GetMetricDataCommandInput, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { type ConsoleApiDeps, consoleApiHandler, createConsoleApi } from '@payhooks/console/api';
import { createLogger } from '@payhooks/core/logger';
import { createFolderStore } from '@payhooks/local/folder-store';
import { type LocalQueues, startLocalQueues } from '@payhooks/local/sqs';
import { successfulTrade, writeTradeBill } from '@payhooks/testkit/bills/bill-writer';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GetMetricData } from '../src/adapters/cloudwatch-ops.ts';
import { type InvokeResult, lambdaStartUpload, reconUploadsVia } from '../src/adapters/console-upload.ts';
import { dlqDepth } from '../src/adapters/dead-letters.ts';
import type { UploadEvent } from '../src/reconciliation/upload.ts';
import { consoleOpsDepsFromEnv, createConsoleUploadHandler } from '../src/wiring/console.ts';

const NAMESPACE = 'payhooks/consoletest';
const MCHID = '1900000109';
const UPLOAD_FUNCTION = 'payhooks-test-ConsoleUpload';
const NOW = new Date('2026-11-30T12:00:30Z');
const clock = { now: () => NOW };
const logger = createLogger({ name: 'console-aws-test', level: 'silent' });

let queues: LocalQueues;
let db: TestDatabase;
let dir: string;
/** Every GetMetricData input the fake was given, and what it answers per query id. */
const asked: GetMetricDataCommandInput[] = [];
const answers = new Map<string, MetricDataResult[]>();
const fakeGetMetricData: GetMetricData = async (input) => {
  asked.push(input);
  return {
    MetricDataResults: (input.MetricDataQueries ?? []).flatMap((q) => answers.get(q.Id!) ?? []),
  };
};
/** The asynchronous Lambda invocations the transport took (function name, decoded event), not yet run. */
const invoked: { name: string; event: UploadEvent }[] = [];
let failNextInvoke = false;
/** The upload function's handler, run by the tests where Lambda would run it after an asynchronous invoke. */
let runUpload: ReturnType<typeof createConsoleUploadHandler>;
const STALLED_AFTER_SECONDS = 420;
let handler: ReturnType<typeof consoleApiHandler>;
let store: ReturnType<typeof createFolderStore>;

beforeAll(async () => {
  [queues, db] = await Promise.all([
    startLocalQueues({ visibilityTimeoutSeconds: 1, maxReceiveCount: 1 }),
    createTestDatabase(),
  ]);
  dir = await mkdtemp(path.join(tmpdir(), 'payhooks-console-aws-'));
  store = createFolderStore(dir);
  runUpload = createConsoleUploadHandler({}, { sql: db.sql, store, clock, logger });
  // Lambda's asynchronous Invoke as far as the adapter sees it: Lambda takes the event, answers 202 and runs the
  // function later (the tests run it, as Lambda would); or the call itself is refused (throttled, access denied).
  const transport = async (name: string, payload: Uint8Array): Promise<InvokeResult> => {
    if (failNextInvoke) {
      failNextInvoke = false;
      throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
    }
    invoked.push({ name, event: JSON.parse(Buffer.from(payload).toString('utf8')) as UploadEvent });
    return { StatusCode: 202 };
  };
  const deps: ConsoleApiDeps = {
    sql: db.sql,
    reports: store,
    clock,
    logger,
    ops: consoleOpsDepsFromEnv(
      {
        QUEUE_URL: queues.queueUrl,
        DLQ_URL: queues.dlqUrl,
        SQS_ENDPOINT: queues.endpoint,
        POWERTOOLS_METRICS_NAMESPACE: NAMESPACE,
      },
      { getMetricData: fakeGetMetricData, clock },
    ),
    uploads: reconUploadsVia({
      store,
      start: lambdaStartUpload(UPLOAD_FUNCTION, transport),
      clock,
      stalledAfterSeconds: STALLED_AFTER_SECONDS,
    }),
  };
  handler = consoleApiHandler(createConsoleApi(deps));
}, 120_000);

afterAll(async () => {
  await queues?.stop();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A console API call as API Gateway hands it over after the JWT authorizer. */
async function call(role: 'ops' | 'finance', method: string, route: string, body?: unknown) {
  const [rawPath, rawQuery = ''] = route.split('?');
  const event = {
    version: '2.0',
    rawPath: `/console/api${rawPath}`,
    rawQueryString: rawQuery,
    queryStringParameters: Object.fromEntries(new URLSearchParams(rawQuery)),
    headers: {
      host: 'console.example.test',
      authorization: 'Bearer verified-by-the-authorizer',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    requestContext: {
      http: { method, path: `/console/api${rawPath}` },
      authorizer: {
        jwt: { claims: { 'cognito:username': role, 'cognito:groups': `[${role}]` }, scopes: null },
      },
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
  const response = await handler(event);
  return { status: response.statusCode, body: JSON.parse(String(response.body ?? 'null')) };
}

const envelope = (eventId: string) =>
  JSON.stringify({
    v: 1,
    provider: 'stripe',
    eventId,
    eventType: 'charge.succeeded',
    account: '',
    occurredAt: '2026-11-30T11:00:00Z',
    receivedAt: '2026-11-30T11:00:01Z',
    rawBody: '{"id":"x"}',
  });

/** Receives without deleting until the redrive policy has moved `count` messages to the DLQ. */
async function exhaust(count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await dlqDepth(queues.client, queues.dlqUrl)) < count) {
    if (Date.now() > deadline) throw new Error('messages never reached the DLQ');
    await queues.client.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
  }
}

/** The event ids now on the main queue (a set: SQS may deliver a message twice). */
async function mainQueueEventIds(expected: number): Promise<Set<string>> {
  const seen = new Set<string>();
  const deadline = Date.now() + 30_000;
  while (seen.size < expected && Date.now() < deadline) {
    const { Messages = [] } = await queues.client.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const m of Messages) {
      seen.add((JSON.parse(m.Body!) as { eventId: string }).eventId);
      // As the consumer would: received and done (else the redrive policy moves it back to the DLQ).
      await queues.client.send(
        new DeleteMessageCommand({ QueueUrl: queues.queueUrl, ReceiptHandle: m.ReceiptHandle! }),
      );
    }
  }
  return seen;
}

interface Letter {
  messageId: string;
  eventId: string | null;
  failedAttempts: number;
  lastFailure: { code: string } | null;
}

describe('ops routes on the stage wiring', () => {
  it('lists dead letters with their failure reasons and replays exactly the confirmed ids', async () => {
    for (const id of ['evt_aws_dead1', 'evt_aws_dead2', 'evt_aws_dead3'])
      await queues.client.send(
        new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: envelope(id) }),
      );
    await exhaust(3);
    await db.sql`
      insert into delivery_failures (provider, event_id, message_id, attempt, error_code, error_message, failed_at)
      values ('stripe', 'evt_aws_dead2', 'm-2', 1, 'LEDGER_CHECK_FAILED', 'check constraint refused the row', now())`;

    const listed = await call('ops', 'GET', '/ops/dead-letters');
    expect(listed.status).toBe(200);
    const letters = listed.body.deadLetters as Letter[];
    expect(letters.map((l) => l.eventId).sort()).toEqual(['evt_aws_dead1', 'evt_aws_dead2', 'evt_aws_dead3']);
    const second = letters.find((l) => l.eventId === 'evt_aws_dead2')!;
    expect(second).toMatchObject({ failedAttempts: 1, lastFailure: { code: 'LEDGER_CHECK_FAILED' } });
    expect(listed.body.depth).toBe(3);

    // An id that is not in the DLQ refuses the whole replay: nothing moves.
    const refused = await call('ops', 'POST', '/ops/dead-letters/replay', {
      messageIds: [second.messageId, 'not-a-dead-letter'],
    });
    expect(refused).toMatchObject({ status: 409, body: { code: 'OPS_DLQ_MISSING' } });
    expect(await dlqDepth(queues.client, queues.dlqUrl)).toBe(3);

    const chosen = letters.filter((l) => l.eventId !== 'evt_aws_dead3');
    const replay = await call('ops', 'POST', '/ops/dead-letters/replay', {
      messageIds: chosen.map((l) => l.messageId),
    });
    expect(replay.status).toBe(200);
    expect([...replay.body.replayed].sort()).toEqual(chosen.map((l) => l.messageId).sort());
    const after = await call('ops', 'GET', '/ops/dead-letters');
    expect((after.body.deadLetters as Letter[]).map((l) => l.eventId)).toEqual(['evt_aws_dead3']);
    expect(await mainQueueEventIds(2)).toEqual(new Set(['evt_aws_dead1', 'evt_aws_dead2']));
  });

  it('answers queue depth from SQS and the oldest message’s age from CloudWatch', async () => {
    answers.set('main', [
      {
        Id: 'main',
        Timestamps: [new Date('2026-11-30T11:58:00Z'), new Date('2026-11-30T11:59:00Z')],
        Values: [40, 95],
      },
    ]);
    answers.set('dlq', [{ Id: 'dlq', Timestamps: [], Values: [] }]);
    asked.length = 0;
    const stats = await call('ops', 'GET', '/ops/queues');
    expect(stats.status).toBe(200);
    const inDlq = stats.body.dlq.visible + stats.body.dlq.inFlight;
    expect(inDlq).toBe(await dlqDepth(queues.client, queues.dlqUrl));
    expect(stats.body.oldestMessageAge).toEqual({
      main: { seconds: 95, at: '2026-11-30T11:59:00.000Z' },
      dlq: null,
    });
    // Asked for each queue by its name (the URL's last segment), in AWS/SQS, over the last minutes.
    const [input] = asked;
    const dims = input!.MetricDataQueries!.map((q) => ({
      id: q.Id,
      metric: q.MetricStat?.Metric?.MetricName,
      namespace: q.MetricStat?.Metric?.Namespace,
      queue: q.MetricStat?.Metric?.Dimensions?.[0]?.Value,
    }));
    expect(dims).toEqual([
      {
        id: 'main',
        metric: 'ApproximateAgeOfOldestMessage',
        namespace: 'AWS/SQS',
        queue: queues.queueUrl.split('/').at(-1),
      },
      {
        id: 'dlq',
        metric: 'ApproximateAgeOfOldestMessage',
        namespace: 'AWS/SQS',
        queue: queues.dlqUrl.split('/').at(-1),
      },
    ]);
    expect(input!.EndTime).toEqual(NOW);
  });

  it('draws the queue-depth chart from SQS’s depth metrics (no sampler runs in a stage)', async () => {
    const t1 = new Date('2026-11-30T11:50:00Z');
    const t2 = new Date('2026-11-30T11:55:00Z');
    answers.set('main_visible', [{ Id: 'main_visible', Timestamps: [t1, t2], Values: [120, 7] }]);
    answers.set('main_inFlight', [{ Id: 'main_inFlight', Timestamps: [t2], Values: [30] }]);
    answers.set('dlq_visible', [{ Id: 'dlq_visible', Timestamps: [t2], Values: [2] }]);
    // A local sampler's row: in a stage the chart must not read them.
    await db.sql`
      insert into queue_depth_samples (queue, sampled_at, visible, in_flight, delayed)
      values ('main', ${t1}, 999, 0, 0)`;
    asked.length = 0;
    const chart = await call('ops', 'GET', '/ops/charts/queue-depth?hours=6');
    expect(chart.status).toBe(200);
    expect(chart.body.samples).toEqual([
      { queue: 'dlq', at: t2.toISOString(), visible: 2, inFlight: 0, delayed: 0 },
      { queue: 'main', at: t1.toISOString(), visible: 120, inFlight: 0, delayed: 0 },
      { queue: 'main', at: t2.toISOString(), visible: 7, inFlight: 30, delayed: 0 },
    ]);
    const [input] = asked;
    expect(input!.StartTime).toEqual(new Date(NOW.getTime() - 6 * 3_600_000));
    expect(
      input!.MetricDataQueries!.map((q) => [
        q.Id,
        q.MetricStat?.Metric?.MetricName,
        q.MetricStat?.Metric?.Dimensions?.[0]?.Value,
      ]),
    ).toEqual(
      (['main', 'dlq'] as const).flatMap((queue) => {
        const name = (queue === 'main' ? queues.queueUrl : queues.dlqUrl).split('/').at(-1);
        return [
          [`${queue}_visible`, 'ApproximateNumberOfMessagesVisible', name],
          [`${queue}_inFlight`, 'ApproximateNumberOfMessagesNotVisible', name],
          [`${queue}_delayed`, 'ApproximateNumberOfMessagesDelayed', name],
        ];
      }),
    );
  });

  it('counts recent rejections per provider and reason from the CallbackRejected metric', async () => {
    answers.set('rejected', [
      {
        Id: 'rejected',
        Label: 'stripe STRIPE_SIGNATURE_MISMATCH',
        Timestamps: [new Date('2026-11-30T10:00:00Z'), new Date('2026-11-30T08:00:00Z')],
        Values: [1, 2],
      },
      {
        Id: 'rejected',
        Label: 'wechatpay WECHATPAY_UNKNOWN_SERIAL',
        Timestamps: [new Date('2026-11-30T11:00:00Z'), new Date('2026-11-30T09:00:00Z')],
        Values: [0, 4],
      },
      {
        Id: 'rejected',
        Label: 'stripe BODY_TOO_LARGE',
        Timestamps: [new Date('2026-11-30T11:00:00Z')],
        Values: [0],
      },
    ]);
    asked.length = 0;
    const answer = await call('ops', 'GET', '/ops/rejections?hours=6');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ available: true, source: 'cloudwatch', hours: 6 });
    expect(answer.body.capacity).toBeUndefined();
    expect(answer.body.rejections).toEqual([
      {
        provider: 'wechatpay',
        reason: 'WECHATPAY_UNKNOWN_SERIAL',
        count: 4,
        lastAt: '2026-11-30T09:00:00.000Z',
      },
      {
        provider: 'stripe',
        reason: 'STRIPE_SIGNATURE_MISMATCH',
        count: 3,
        lastAt: '2026-11-30T10:00:00.000Z',
      },
    ]);
    const [input] = asked;
    expect(input!.StartTime).toEqual(new Date('2026-11-30T06:00:00Z'));
    const [query] = input!.MetricDataQueries!;
    expect(query!.Expression).toBe(
      `SELECT SUM(CallbackRejected) FROM "${NAMESPACE}" GROUP BY provider, reason ORDER BY SUM() DESC LIMIT 500`,
    );
    expect(query!.Period).toBe(3600);
  });

  it('refuses finance on the ops routes it reads through AWS', async () => {
    for (const route of ['/ops/queues', '/ops/rejections', '/ops/dead-letters'])
      expect((await call('finance', 'GET', route)).status, route).toBe(403);
  });
});

const trade = (transactionId: string, outTradeNo: string, fen: bigint) =>
  successfulTrade(MCHID, transactionId, outTradeNo, fen);

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

describe('upload of a bill to reconcile, through the upload function', () => {
  const upload = (bytes: Buffer, fileName = 'tradebill-2025-03-01.csv', businessDate = '2025-03-01') =>
    call('finance', 'POST', '/recon/file', {
      provider: 'wechatpay',
      account: MCHID,
      businessDate,
      fileName,
      contentBase64: bytes.toString('base64'),
    });

  const runsOn = async (date: string) => {
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from recon_runs where account = ${MCHID} and business_date = ${date}`;
    return row!.n;
  };
  const status = (key: string, as: 'finance' | 'ops' = 'finance') =>
    call(as, 'GET', `/recon/file/status?${new URLSearchParams({ key })}`);

  it('answers 202 at once with the kept file; the function, run later as Lambda runs it, records the run', async () => {
    await db.sql`
      insert into payments (provider, provider_payment_id, account, merchant_order_no, amount_minor, currency,
        status, status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
      values ('wechatpay', '4200000000000000000001', ${MCHID}, 'O-1', 1000, 'CNY', 'succeeded', 100,
        '2025-03-01T02:00:00Z', '2025-03-01T02:00:00Z', '2025-03-01T02:00:00Z', 'seed', '0:seed')`;
    const bill = Buffer.from(
      await collect(
        writeTradeBill([
          trade('4200000000000000000001', 'O-1', 1000n),
          trade('4200000000000000000003', 'O-3', 3000n),
        ]),
      ),
      'utf8',
    );
    invoked.length = 0;
    const answer = await upload(bill);
    expect(answer.status).toBe(202);
    const key = answer.body.key as string;
    expect(key.startsWith(`uploads/wechatpay/${MCHID}/2025-03-01/`)).toBe(true);
    expect(answer.body.status).toBe(`/console/api/recon/file/status?${new URLSearchParams({ key })}`);
    expect(Buffer.from((await store.get(key))!)).toEqual(bill);
    // Asked asynchronously with the key, never the bytes; nothing reconciled yet.
    expect(invoked).toEqual([
      {
        name: UPLOAD_FUNCTION,
        event: {
          file: key,
          provider: 'wechatpay',
          merchant: MCHID,
          date: '2025-03-01',
          fileName: 'tradebill-2025-03-01.csv',
          force: false,
        },
      },
    ]);
    expect((await status(key)).body).toMatchObject({ state: 'queued', key });
    expect(await runsOn('2025-03-01')).toBe(0);

    const outcome = await runUpload(invoked[0]!.event);
    expect(outcome.ok).toBe(true);
    const done = await status(key);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      state: 'done',
      key,
      file: { key, sha256: createHash('sha256').update(bill).digest('hex') },
      result: {
        status: 'succeeded',
        provider: 'wechatpay',
        account: MCHID,
        businessDate: '2025-03-01',
        counts: { matched: 1, missing_in_ledger: 1 },
      },
    });
    expect(await runsOn('2025-03-01')).toBe(1);

    // Lambda may deliver an asynchronous event twice: the second answers the recorded run and reconciles nothing
    // (had it run, it would not find the file taken away here).
    await store.put(key, Buffer.alloc(0), 'application/octet-stream');
    expect(await runUpload(invoked[0]!.event)).toEqual(outcome);
    expect((await status(key)).body).toEqual(done.body);
  });

  it('records a file of no known kind as a failed run; a refused invoke is 502 and a failed upload', async () => {
    invoked.length = 0;
    const refused = await upload(Buffer.from('this is no bill at all\n'), 'notes.txt', '2025-03-02');
    expect(refused.status).toBe(202);
    await runUpload(invoked[0]!.event);
    const ran = await status(refused.body.key);
    // A file of no known kind is a failed run, recorded as such, with the one line why.
    expect(ran.body).toMatchObject({
      state: 'done',
      result: { status: 'failed', error: { code: 'RECON_FILE_KIND' } },
    });
    expect(ran.body.result.error.message).toContain('notes.txt is neither');

    failNextInvoke = true;
    const failed = await upload(Buffer.from('anything'), 'again.csv', '2025-03-03');
    expect(failed.status).toBe(502);
    expect(failed.body.code).toBe('UPLOAD_NOT_STARTED');
    const kept = /kept as (\S+)$/.exec(failed.body.message)![1]!;
    expect(await store.get(kept)).toBeDefined();
    expect((await status(kept)).body).toMatchObject({ state: 'failed', code: 'UPLOAD_NOT_STARTED' });
  });

  it('answers an upload the function never finished as failed once the function’s time is over', async () => {
    invoked.length = 0;
    const started = await upload(Buffer.from('anything'), 'lost.csv', '2025-03-05');
    expect(started.status).toBe(202);
    // Not run: the function died before it recorded anything (timeout, out of memory). Later, as seen then:
    const later = new Date(NOW.getTime() + (STALLED_AFTER_SECONDS + 1) * 1000);
    const uploads = reconUploadsVia({
      store,
      start: async () => {},
      clock: { now: () => later },
      stalledAfterSeconds: STALLED_AFTER_SECONDS,
    });
    expect(await uploads.status(started.body.key)).toMatchObject({ state: 'failed', code: 'UPLOAD_STALLED' });
    expect((await status(started.body.key)).body).toMatchObject({ state: 'queued' });
  });

  it('answers status to finance only, for uploads/ keys only', async () => {
    invoked.length = 0;
    const started = await upload(Buffer.from('anything'), 'mine.csv', '2025-03-06');
    expect((await status(started.body.key, 'ops')).status).toBe(403);
    expect((await status('wechatpay/1900000109/2025-03-01/latest.json')).status).toBe(400);
    expect((await status('uploads/wechatpay/1900000109/2025-03-01/../x')).status).toBe(400);
    expect((await status('uploads/wechatpay/1900000109/2025-03-01/never.csv')).status).toBe(404);
  });

  it('refuses an event that names no uploaded file', async () => {
    const outside = await runUpload({
      file: 'wechatpay/1900000109/2025-03-01/latest.json',
      provider: 'wechatpay',
      merchant: MCHID,
      date: '2025-03-01',
      fileName: 'latest.json',
    });
    expect(outside).toEqual({
      ok: false,
      code: 'UPLOAD_BAD_KEY',
      message: 'file must be a key under uploads/',
    });
    expect(await store.get('wechatpay/1900000109/2025-03-01/latest.json.status.json')).toBeUndefined();
  });
});
