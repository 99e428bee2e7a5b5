// Finance reconciles a bill it already has through the console API (`POST /recon/file`, the `recon run --file`
// path), on the real local stack: a gzip WeChat Pay trade bill becomes the day's report, whose summary — fetched
// the way the Reports page does, through the short-lived link — records that its source was that file, with the
// file's SHA-256; replacing it needs `force`; ops may not upload; bad input is one clear 400 and changes nothing.
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type ConsoleUser, generateConsoleUsers } from '@payhooks/local/console';
import { type LocalStack, startLocalStack } from '@payhooks/local/stack';
import { randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { gzipTradeBill } from './helpers/bills.ts';

const MCHID = '1900000109';
const DATE = '2025-03-01';
let db: TestDatabase;
let stack: LocalStack;
let users: ConsoleUser[];
const tokens: Record<'finance' | 'ops', string> = { finance: '', ops: '' };

beforeAll(async () => {
  db = await createTestDatabase();
  users = generateConsoleUsers();
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-console-upload-'));
  stack = await startLocalStack({
    stateDir,
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: [randomWebhookSecret()],
    persistQueues: false,
    reportsDir: path.join(stateDir, 'reports'),
    reportsToken: 'reports-token',
    console: { users },
  });
  for (const role of ['finance', 'ops'] as const)
    tokens[role] = await stack.console!.issuer.issue(users.find((u) => u.groups.includes(role))!);
  for (const [id, fen] of [
    ['4200000000000000000001', 1000],
    ['4200000000000000000002', 2000],
  ] as const)
    await stack.sql`
      insert into payments (provider, provider_payment_id, account, merchant_order_no, amount_minor, currency,
        status, status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
      values ('wechatpay', ${id}, ${MCHID}, ${`O-${id}`}, ${fen}, 'CNY', 'succeeded', 100,
        '2025-03-01T02:00:00Z', '2025-03-01T02:00:00Z', '2025-03-01T02:00:00Z', 'seed', ${`0:${id}`})`;
});
afterAll(async () => {
  await stack?.stop();
  await db?.drop();
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The fields these answers carry (an upload's file and result, a link, a report list, an error's message). */
interface Answer {
  file?: unknown;
  result?: { status: string } & Record<string, unknown>;
  url?: string;
  reports?: unknown[];
  message?: string;
}

async function call(method: string, apiPath: string, as: 'finance' | 'ops', body?: unknown) {
  const response = await fetch(`${stack.gatewayUrl}/console/api${apiPath}`, {
    method,
    headers: {
      authorization: `Bearer ${tokens[as]}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

interface UploadState {
  state: string;
  file?: unknown;
  result?: Answer['result'];
  code?: string;
}

/**
 * An upload as the page makes it: POST answers 202 before reconciling, then the upload's status is polled until
 * the run ended; answers the POST's status and, when accepted, the ended state's file and result.
 */
async function upload(bytes: Buffer, extra: Record<string, unknown> = {}, as: 'finance' | 'ops' = 'finance') {
  const started = await call('POST', '/recon/file', as, {
    provider: 'wechatpay',
    account: MCHID,
    businessDate: DATE,
    fileName: 'tradebill-2025-03-01.csv.gz',
    contentBase64: bytes.toString('base64'),
    ...extra,
  });
  if (started.status !== 202) return started;
  const key = (started.body as { key: string }).key;
  const ended = await vi.waitFor(
    async () => {
      const status = await call('GET', `/recon/file/status?${new URLSearchParams({ key })}`, as);
      const state = status.body as UploadState;
      if (state.state !== 'done' && state.state !== 'failed') throw new Error(`upload still ${state.state}`);
      return state;
    },
    { timeout: 120_000, interval: 50 },
  );
  expect(ended.state).toBe('done');
  return { status: started.status, body: { file: ended.file, result: ended.result } as Answer };
}

interface Summary {
  counts: Record<string, number>;
  sourceFiles: { name: string; origin?: string; fileName?: string; sha256Downloaded: string; rows: number }[];
}

/** The day's current summary.json as finance downloads it: a link from the API, then the link itself. */
async function currentSummary(): Promise<Summary> {
  const link = await call('GET', `/reports/wechatpay/${MCHID}/${DATE}/summary.json`, 'finance');
  expect(link.status).toBe(200);
  const response = await fetch(link.body.url!);
  expect(response.status).toBe(200);
  return (await response.json()) as Summary;
}

describe('finance uploads a bill to reconcile', () => {
  it('reconciles an uploaded gzip WeChat Pay trade bill; the report records the file and its SHA-256', async () => {
    const bill = await gzipTradeBill(MCHID, [
      ['4200000000000000000001', 1000n],
      ['4200000000000000000003', 3000n],
    ]);
    const answer = await upload(bill);
    expect(answer.status).toBe(202);
    expect(answer.body.file).toEqual({
      name: 'tradebill-2025-03-01.csv.gz',
      bytes: bill.length,
      sha256: sha256(bill),
      // Kept under uploads/ by provider, account and date (the same port as on AWS, where the upload function
      // reconciles it from there).
      key: expect.stringMatching(
        /^uploads\/wechatpay\/1900000109\/2025-03-01\/.+-tradebill-2025-03-01\.csv\.gz$/,
      ),
    });
    expect(answer.body.result).toMatchObject({
      status: 'succeeded',
      provider: 'wechatpay',
      businessDate: DATE,
    });

    const summary = await currentSummary();
    // One payment in both, one only in the bill, one only in the ledger.
    expect(summary.counts).toEqual({ matched: 1, missing_in_ledger: 1, missing_at_provider: 1 });
    expect(summary.sourceFiles).toEqual([
      expect.objectContaining({
        origin: 'file',
        fileName: 'tradebill-2025-03-01.csv.gz',
        sha256Downloaded: sha256(bill),
        rows: 2,
      }),
    ]);
    const runs = await stack.sql<{ source_files: Summary['sourceFiles'] }[]>`
      select source_files from recon_runs where provider = 'wechatpay' and account = ${MCHID}
        and business_date = ${DATE} and status = 'succeeded'`;
    expect(runs.map((r) => r.source_files[0]?.sha256Downloaded)).toEqual([sha256(bill)]);
    const listed = await call('GET', `/reports?provider=wechatpay&account=${MCHID}`, 'finance');
    expect(listed.body.reports).toEqual([expect.objectContaining({ businessDate: DATE, unhealedBreaks: 2 })]);
  });

  it('keeps the day’s report unless asked to replace it; with force the new file is the source', async () => {
    const before = await currentSummary();
    const corrected = await gzipTradeBill(MCHID, [
      ['4200000000000000000001', 1000n],
      ['4200000000000000000002', 2000n],
    ]);
    const kept = await upload(corrected);
    expect(kept.status).toBe(202);
    expect(kept.body.result?.status).not.toBe('succeeded');
    expect(await currentSummary()).toEqual(before);

    const replaced = await upload(corrected, { force: true });
    expect(replaced.body.result).toMatchObject({ status: 'succeeded' });
    const after = await currentSummary();
    expect(after.counts).toEqual({ matched: 2 });
    expect(after.sourceFiles[0]).toMatchObject({ origin: 'file', sha256Downloaded: sha256(corrected) });
  });

  it('refuses ops (403) and bad input (400, one line), and nothing changes', async () => {
    const before = await currentSummary();
    const bill = await gzipTradeBill(MCHID, [['4200000000000000000009', 9000n]]);
    expect((await upload(bill, { force: true }, 'ops')).status).toBe(403);
    const refusals = [
      await upload(Buffer.alloc(0), { force: true }),
      await upload(bill, { account: 'not-a-mchid', force: true }),
      await upload(bill, { businessDate: '01/03/2025', force: true }),
      await upload(bill, { provider: 'paypal', force: true }),
    ];
    for (const refusal of refusals) {
      expect(refusal.status).toBe(400);
      expect(String(refusal.body.message)).not.toMatch(/\n|\bat \w+ \(/);
    }
    // Not a bill at all: the run fails with the parser's reason (recorded as a failed run), the report stays.
    const garbage = await upload(Buffer.from('this is not a bill\n'), { force: true });
    expect(garbage.status).toBe(202);
    const failed = garbage.body.result as { status: string; error?: { code: string; message: string } };
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toMatch(/^[A-Z_]+$/);
    expect(failed.error?.message).not.toMatch(/\n/);
    expect(await currentSummary()).toEqual(before);
  });
});
