// Readiness is not emptiness: a WeChat Pay bill still being generated (STATEMENT_CREATING) is a quiet, recorded
// "not ready" until the last scheduled attempt; a future business date is refused before anything is claimed; a
// day is empty only when the provider says NO_STATEMENT_EXIST. Real client → provider sandbox → embedded Postgres.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runLocalReconciliation } from '@payhooks/local/local-reconciliation';
import {
  type ProviderSandbox,
  sandboxMerchantsFromGenerated,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { generateSandboxMerchants, writeMerchantsFile } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAlerter } from '../src/adapters/alerts.ts';
import { MemoryMetrics } from '../src/adapters/metrics.ts';
import { reportOutcome } from '../src/reconciliation/outcome.ts';

let db: TestDatabase;
let sandbox: ProviderSandbox;
let dir: string;
let merchantsFile: string;
let mchid: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'payhooks-readiness-'));
  const generated = await generateSandboxMerchants();
  merchantsFile = await writeMerchantsFile(path.join(dir, 'merchants.json'), {
    merchants: [generated.document.merchants[0]!],
  });
  const merchants = sandboxMerchantsFromGenerated(generated).slice(0, 1);
  mchid = merchants[0]!.mchid;
  sandbox = await startProviderSandbox({ wechatpay: { merchants } });
});
afterAll(async () => {
  await sandbox?.stop();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const reportsDir = () => path.join(dir, 'reports');
const reconcileWechatpay = (date: string, force = false) =>
  runLocalReconciliation({
    sql: db.sql,
    env: { WECHATPAY_MERCHANTS_FILE: merchantsFile },
    reportsDir: reportsDir(),
    providerApiUrl: sandbox.url,
    providers: ['wechatpay'],
    dates: { wechatpay: date },
    force,
    logger: quiet,
  });
const latestOf = (date: string) => path.join(reportsDir(), 'wechatpay', mchid, date, 'latest.json');
const outcomeOf = (results: Parameters<typeof reportOutcome>[1], lastAttempt: boolean) => {
  const alerter = new MemoryAlerter();
  return reportOutcome('wechatpay', results, {
    metrics: new MemoryMetrics(),
    alerter,
    logger: quiet,
    lastAttempt,
    reportsLocation: reportsDir(),
  }).then(({ failed }) => ({ failed, alerts: alerter.alerts }));
};

describe('WeChat Pay bill readiness', () => {
  it('a bill still being generated waits quietly for the next attempt, alarms on the last, and is fetched once ready', async () => {
    const wx = sandbox.wechatpay!;
    const date = '2025-04-01';
    const paid = wx.addTransaction({
      mchid,
      outTradeNo: 'READY-1',
      amountFen: 1200,
      successTime: `${date}T10:00:00+08:00`,
    });
    await db.sql`
      insert into payments (provider, provider_payment_id, account, merchant_order_no, amount_minor, currency,
        status, status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
      values ('wechatpay', ${paid.transactionId!}, ${mchid}, 'READY-1', 1200, 'CNY', 'succeeded', 100,
        '2025-04-01T02:00:00Z', '2025-04-01T02:00:00Z', '2025-04-01T02:00:00Z', 'seed', '0')`;
    wx.faults.notReadyDates.add(date);

    const early = await reconcileWechatpay(date);
    const [result] = early.results;
    expect(result?.status).toBe('not_ready');
    expect(result?.error?.code).toBe('RECON_NOT_READY');
    expect(result?.error?.message).toContain('still being generated');
    expect(existsSync(latestOf(date))).toBe(false);
    const [run] = await db.sql`
      select status, error_code from recon_runs where provider = 'wechatpay' and account = ${mchid}
        and business_date = ${date}`;
    expect(run).toEqual({ status: 'failed', error_code: 'RECON_NOT_READY' });
    expect(await outcomeOf(early.results, false)).toEqual({ failed: [], alerts: [] });
    const last = await outcomeOf(early.results, true);
    expect(last.failed).toHaveLength(1);
    expect(last.alerts).toHaveLength(1);
    expect(last.alerts[0]!.message).toContain('RECON_NOT_READY');

    wx.faults.notReadyDates.delete(date);
    const next = await reconcileWechatpay(date);
    expect(next.results[0]?.status).toBe('succeeded');
    expect(next.results[0]?.counts).toEqual({ matched: 1 });
    expect(existsSync(latestOf(date))).toBe(true);
  });

  it('a day the provider answers NO_STATEMENT_EXIST for is reported empty', async () => {
    const date = '2025-04-02';
    const outcome = await reconcileWechatpay(date);
    const [result] = outcome.results;
    expect(result?.status).toBe('succeeded');
    const [run] = await db.sql<{ source_files: { name: string; empty: boolean }[] }[]>`
      select source_files from recon_runs where run_id = ${result!.runId}`;
    expect(run!.source_files.map((f) => [f.name, f.empty])).toEqual([
      ['tradebill', true],
      ['fundflowbill', true],
    ]);
  });

  it('a future business date is refused with one clear error: nothing is claimed or published', async () => {
    const tomorrow = new Date(Date.now() + 8 * 3600_000 + 86_400_000).toISOString().slice(0, 10);
    await expect(reconcileWechatpay(tomorrow)).rejects.toThrow(/RECON_FUTURE_DATE|is in the future/);
    await expect(reconcileWechatpay(tomorrow)).rejects.toMatchObject({ code: 'RECON_FUTURE_DATE' });
    expect(existsSync(latestOf(tomorrow))).toBe(false);
    const runs = await db.sql`select 1 from recon_runs where business_date = ${tomorrow}`;
    expect(runs).toHaveLength(0);
  });
});
