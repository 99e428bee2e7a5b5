// `payhooks --stage NAME …` on real parts: the stage's resources come from its stack outputs (the one
// control-plane port, given here), queues are the SQS emulator through the real SDK, and everything needing the
// database goes through the operations function's real handler on the embedded Postgres. Failure reasons are
// written by the consumer's recorder; replay re-drives only the selected dead letters and says exactly what moved.
import { readdirSync } from 'node:fs';
import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createDeliveryFailureRecorder, DEFAULT_MIGRATIONS_DIR } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import { createOperationsHandler } from '@payhooks/functions/operations';
import { type LocalQueues, startLocalQueues } from '@payhooks/local/sqs';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../src/program.ts';
import { dlqDepth } from '../src/stage/dead-letters.ts';
import type { StagePorts } from '../src/target.ts';

let queues: LocalQueues;
let db: TestDatabase;
const invoked: string[] = [];

beforeAll(async () => {
  queues = await startLocalQueues({ visibilityTimeoutSeconds: 1, maxReceiveCount: 1 });
  db = await createTestDatabase();
});
afterAll(async () => {
  await queues?.stop();
  await db?.drop();
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

function portsWith(sqs: () => SQSClient): StagePorts {
  const handler = createOperationsHandler(
    { DATABASE_URL: db.url },
    { logger: createLogger({ name: 'ops', destination: pino.destination('/dev/null') }) },
  );
  return {
    stackOutputs: () => ({
      outputsOf: async (name): Promise<Record<string, string> | undefined> =>
        (<Record<string, Record<string, string>>>{
          'test-payhooks-Queue': { QueueUrl: queues.queueUrl, DeadLetterQueueUrl: queues.dlqUrl },
          'test-payhooks-Reconciliation': { ReportsBucket: 'reports-bucket' },
          'test-payhooks-Operations': { OperationsFunctionName: 'test-operations' },
        })[name],
    }),
    operations: (functionName) => ({
      invoke: async (request) => {
        invoked.push(`${functionName}:${request.action}`);
        return handler(request);
      },
    }),
    sqs,
  };
}

async function run(ports: StagePorts, ...args: string[]): Promise<{ out: string; exitCode: unknown }> {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...values: unknown[]) => {
    out.push(values.join(' '));
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const program = buildProgram(ports, {}).exitOverride();
  await program.parseAsync(['node', 'payhooks', ...args]);
  const exitCode = process.exitCode;
  process.exitCode = undefined;
  return { out: out.join('\n'), exitCode };
}

const envelope = (provider: string, eventId: string, eventType: string, receivedAt: string) =>
  JSON.stringify({
    v: 1,
    provider,
    eventId,
    eventType,
    account: '',
    occurredAt: '2026-11-23T00:00:00Z',
    receivedAt,
    rawBody: '{}',
  });

/** Receives without deleting until the redrive policy has moved `count` messages to the DLQ. */
async function exhaust(count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await dlqDepth(queues.client, queues.dlqUrl)) < count) {
    if (Date.now() > deadline) throw new Error('messages never reached the DLQ');
    await queues.client.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
  }
}

async function drainMainQueue(): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const { Messages = [] } = await queues.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
      }),
    );
    if (Messages.length === 0) return ids.sort();
    for (const m of Messages) ids.push((JSON.parse(m.Body!) as { eventId: string }).eventId);
  }
}

describe('payhooks --stage', () => {
  it('lists reasons, dry-runs and replays only the selection, and says exactly what moved', async () => {
    const ports = portsWith(() => queues.client);
    const sent = [
      envelope('stripe', 'evt_a', 'payment_intent.succeeded', '2026-11-23T01:00:00Z'),
      envelope('stripe', 'evt_b', 'charge.refunded', '2026-11-23T02:00:00Z'),
      envelope('wechatpay', 'wx_c', 'TRANSACTION.SUCCESS', '2026-11-23T03:00:00Z'),
    ];
    for (const body of sent)
      await queues.client.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }));
    await exhaust(3);
    // What the consumer wrote when these failed (its recorder, as in the consumer's failure path).
    const recorder = createDeliveryFailureRecorder({
      sql: db.sql,
      logger: createLogger({ name: 't', destination: pino.destination('/dev/null') }),
    });
    const fail = (provider: 'stripe' | 'wechatpay', eventId: string, attempt: number, code: string) =>
      recorder.note({
        messageId: `m-${eventId}`,
        attempt,
        envelope: { provider, eventId, eventType: 'x' },
        error: Object.assign(new Error(`failed with ${code}`), { code }),
      });
    fail('stripe', 'evt_a', 1, 'STRIPE_UNEXPECTED_SHAPE');
    fail('stripe', 'evt_a', 2, 'STRIPE_UNEXPECTED_SHAPE');
    fail('stripe', 'evt_b', 1, 'PG_23505');
    fail('wechatpay', 'wx_c', 1, 'WECHATPAY_DECRYPT_FAILED');
    await recorder.flush();

    const listed = JSON.parse((await run(ports, '--stage', 'test', 'dlq', 'list', '--json')).out) as {
      eventId: string;
      failedAttempts: number;
      lastFailure: { code: string; attempt: number } | null;
    }[];
    expect(
      listed.map((r) => [r.eventId, r.failedAttempts, r.lastFailure?.code, r.lastFailure?.attempt]).sort(),
    ).toEqual([
      ['evt_a', 2, 'STRIPE_UNEXPECTED_SHAPE', 2],
      ['evt_b', 1, 'PG_23505', 1],
      ['wx_c', 1, 'WECHATPAY_DECRYPT_FAILED', 1],
    ]);
    expect(invoked).toContain('test-operations:failures');

    const human = (await run(ports, '--stage', 'test', 'dlq', 'list')).out;
    expect(human).toContain('3 dead letter(s)');
    expect(human).toMatch(
      /evt_a .*failed 2× — last STRIPE_UNEXPECTED_SHAPE: failed with STRIPE_UNEXPECTED_SHAPE/,
    );

    const dry = JSON.parse(
      (
        await run(
          ports,
          '--stage',
          'test',
          'dlq',
          'replay',
          '--error-code',
          'PG_23505',
          '--dry-run',
          '--json',
        )
      ).out,
    ) as { selected: { eventId: string }[] };
    expect(dry.selected.map((s) => s.eventId)).toEqual(['evt_b']);
    // The dry run hid nothing: inspect finds it, twice.
    for (const _ of [1, 2]) {
      const inspected = JSON.parse((await run(ports, '--stage', 'test', 'dlq', 'inspect', 'evt_b')).out);
      expect(inspected).toMatchObject({ eventId: 'evt_b', lastFailure: { code: 'PG_23505' } });
    }

    const replay = await run(ports, '--stage', 'test', 'dlq', 'replay', '--error-code', 'PG_23505', '--json');
    const moved = JSON.parse(replay.out) as { selected: string[]; moved: string[] };
    expect(moved.moved).toHaveLength(1);
    expect(moved.selected).toEqual(moved.moved);
    expect(replay.exitCode).toBeUndefined();
    expect(await drainMainQueue()).toEqual(['evt_b']);
    expect(await dlqDepth(queues.client, queues.dlqUrl)).toBe(2);

    const byTypeAndTime = await run(
      ports,
      '--stage',
      'test',
      'dlq',
      'replay',
      '--provider',
      'wechatpay',
      '--event-type',
      'TRANSACTION.SUCCESS',
      '--since',
      '2026-11-23T02:30:00Z',
      '--until',
      '2026-11-23T04:00:00Z',
    );
    expect(byTypeAndTime.out).toContain('moved 1 of 1 selected dead letter(s)');
    expect(await drainMainQueue()).toEqual(['wx_c']);

    const none = await run(ports, '--stage', 'test', 'dlq', 'replay', '--event-id', 'evt_zzz');
    expect(none.out).toContain('moved 0 of 0 selected');
    expect(await dlqDepth(queues.client, queues.dlqUrl)).toBe(1);
  });

  it('exits 3 when a replay moved fewer messages than it selected', async () => {
    // The same emulator, with SendMessageBatch answering every entry as failed (a throttled or refused send).
    const { SQSClient } = await import('@aws-sdk/client-sqs');
    const refusing = new SQSClient({
      region: 'us-east-1',
      endpoint: queues.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    refusing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'SendMessageBatchCommand') return next(args);
        const entries = (args.input as { Entries: { Id: string }[] }).Entries;
        return {
          output: {
            $metadata: {},
            Successful: [],
            Failed: entries.map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' })),
          },
          response: {},
        } as never;
      },
      { step: 'initialize' },
    );
    const before = await dlqDepth(queues.client, queues.dlqUrl);
    expect(before).toBeGreaterThan(0);
    const result = await run(
      portsWith(() => refusing),
      '--stage',
      'test',
      'dlq',
      'replay',
      '--provider',
      'stripe',
    );
    expect(result.out).toMatch(/moved 0 of \d+ selected/);
    expect(result.exitCode).toBe(3);
    expect(await dlqDepth(queues.client, queues.dlqUrl)).toBe(before);
  });

  it('doctor asks the operations function and fails on what it finds missing', async () => {
    const { out, exitCode } = await run(
      portsWith(() => queues.client),
      '--stage',
      'test',
      'doctor',
      '--json',
    );
    const report = JSON.parse(out) as { health: { name: string; ok: boolean; detail: string }[] };
    const byName = new Map(report.health.map((c) => [c.name, c]));
    expect(byName.get('database')).toMatchObject({ ok: true });
    const newest = readdirSync(DEFAULT_MIGRATIONS_DIR)
      .sort()
      .at(-1)!
      .replace(/\.mjs$/, '');
    expect(byName.get('database')!.detail).toContain(`latest migration ${newest}`);
    expect(byName.get('stripe api key')).toMatchObject({ ok: false });
    expect(byName.get('dead-letter queue')).toMatchObject({ ok: true });
    expect(exitCode).toBe(1);
  });

  it('a stage that is not deployed is one clear error naming the stack', async () => {
    await expect(
      run(
        portsWith(() => queues.client),
        '--stage',
        'nope',
        'dlq',
        'list',
      ),
    ).rejects.toThrow(/stack nope-payhooks-Queue not found/);
  });
});
