// An upload on the real local stack takes the stage's path through the same port: the file is kept under
// uploads/ in the reports folder and the upload function's handler reconciles it (functions
// adapters/console-upload.ts), so the run and its report are there afterwards, and the local stack's answer
// has the shape a stage answers with.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateConsoleUsers } from '@payhooks/local/console';
import { type LocalStack, startLocalStack } from '@payhooks/local/stack';
import { successfulTrade, writeTradeBill } from '@payhooks/testkit/bills/bill-writer';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const MCHID = '1900000109';
let db: TestDatabase;
let stack: LocalStack;
let stateDir: string;
let financeToken: string;
let opsToken: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const users = generateConsoleUsers();
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-upload-local-'));
  stack = await startLocalStack({
    stateDir,
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: ['whsec_upload_local_test'],
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: 2,
    persistQueues: false,
    reportsDir: path.join(stateDir, 'reports'),
    reportsToken: 'reports-token',
    console: { users },
  });
  const issuer = stack.console!.issuer;
  financeToken = await issuer.issue(users.find((u) => u.groups.includes('finance'))!);
  opsToken = await issuer.issue(users.find((u) => u.groups.includes('ops'))!);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await db?.drop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

const trade = (transactionId: string, outTradeNo: string, fen: bigint) =>
  successfulTrade(MCHID, transactionId, outTradeNo, fen);

const upload = (token: string, bill: Buffer) =>
  fetch(`${stack.gatewayUrl}/console/api/recon/file`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      provider: 'wechatpay',
      account: MCHID,
      businessDate: '2025-03-01',
      fileName: 'tradebill-2025-03-01.csv',
      contentBase64: bill.toString('base64'),
    }),
  });

describe('upload on the local stack', () => {
  it('keeps the file under uploads/ and reconciles it; ops may not upload', async () => {
    await db.sql`
      insert into payments (provider, provider_payment_id, account, merchant_order_no, amount_minor, currency,
        status, status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
      values ('wechatpay', '4200000000000000000011', ${MCHID}, 'O-11', 1000, 'CNY', 'succeeded', 100,
        '2025-03-01T02:00:00Z', '2025-03-01T02:00:00Z', '2025-03-01T02:00:00Z', 'seed', '0:seed')`;
    let text = '';
    for await (const chunk of writeTradeBill([
      trade('4200000000000000000011', 'O-11', 1000n),
      trade('4200000000000000000012', 'O-12', 500n),
    ]))
      text += chunk;
    const bill = Buffer.from(text, 'utf8');

    expect((await upload(opsToken, bill)).status).toBe(403);

    const response = await upload(financeToken, bill);
    // Accepted before it is reconciled (a run may outlast API Gateway's 29 s); the page polls the status.
    expect(response.status).toBe(202);
    const { key, status } = (await response.json()) as { key: string; status: string };
    const statusUrl = `${stack.gatewayUrl}${status}`;
    const ended = await vi.waitFor(
      async () => {
        const polled = await fetch(statusUrl, { headers: { authorization: `Bearer ${financeToken}` } });
        expect(polled.status).toBe(200);
        const state = (await polled.json()) as { state: string };
        if (state.state !== 'done' && state.state !== 'failed')
          throw new Error(`upload still ${state.state}`);
        return state;
      },
      { timeout: 120_000, interval: 50 },
    );
    const answer = ended as unknown as {
      state: string;
      file: { key: string; sha256: string };
      result: { status: string; counts: Record<string, number> };
    };
    expect(answer.state).toBe('done');
    expect(answer.result).toMatchObject({
      status: 'succeeded',
      counts: { matched: 1, missing_in_ledger: 1 },
    });
    expect(answer.file.key).toBe(key);
    expect(answer.file.key.startsWith(`uploads/wechatpay/${MCHID}/2025-03-01/`)).toBe(true);
    expect(answer.file.sha256).toBe(createHash('sha256').update(bill).digest('hex'));
    expect(await readFile(path.join(stateDir, 'reports', answer.file.key))).toEqual(bill);
    const [run] = await db.sql<{ status: string }[]>`
      select status from recon_runs where provider = 'wechatpay' and account = ${MCHID}
        and business_date = '2025-03-01'`;
    expect(run?.status).toBe('succeeded');
  });
});
