// Local reconciliation end to end against the provider API sandbox: the real WechatpayClient (signed requests,
// verified answers, gzip download, SHA-1) → staging → matching → heal through the query API → folder reports.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type ProviderSandbox,
  sandboxMerchantsFromGenerated,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { generateSandboxMerchants, writeMerchantsFile } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalReconciliation } from '../src/local-reconciliation.ts';

let db: TestDatabase;
let sandbox: ProviderSandbox;
let dir: string;
let merchantsFile: string;
let mchid: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'payhooks-recon-'));
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

const seed = (id: string, amount: number, at: string) => db.sql`
  insert into payments (provider, provider_payment_id, account, merchant_order_no, amount_minor, currency, status,
    status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
  values ('wechatpay', ${id}, ${mchid}, ${`O-${id}`}, ${amount}, 'CNY', 'succeeded', 100, ${at}, ${at}, ${at}, 'seed', '0')`;

/** The sandbox merchant as a service provider (its sub-merchants' bills and partner queries). */
async function serviceProviderFile(name: string): Promise<string> {
  const document = JSON.parse(await readFile(merchantsFile, 'utf8')) as {
    merchants: Record<string, unknown>[];
  };
  return writeMerchantsFile(path.join(dir, name), {
    merchants: document.merchants.map((m) => ({ ...m, serviceProvider: true })),
  } as never);
}

describe('local reconciliation against the provider sandbox', () => {
  it('ends with exactly the deliberate breaks, heals the payment never notified, and writes the report folder', async () => {
    const wx = sandbox.wechatpay!;
    const at = '2025-03-01T10:00:00+08:00';
    const ok = wx.addTransaction({ mchid, outTradeNo: 'OK-1', amountFen: 1000, successTime: at });
    const never = wx.addTransaction({
      mchid,
      outTradeNo: 'NEVER-1',
      amountFen: 2000,
      successTime: at,
      notified: false,
    });
    const notInBill = wx.addTransaction({
      mchid,
      outTradeNo: 'NOBILL-1',
      amountFen: 3000,
      successTime: at,
      inBill: false,
    });
    const differs = wx.addTransaction({
      mchid,
      outTradeNo: 'DIFF-1',
      amountFen: 4000,
      successTime: at,
      billAmountFen: 4100,
    });
    for (const tx of [ok, notInBill, differs])
      await seed(tx.transactionId!, Number(tx.amountFen), '2025-03-01T02:00:00Z');
    void never;

    const outcome = await runLocalReconciliation({
      sql: db.sql,
      env: { WECHATPAY_MERCHANTS_FILE: merchantsFile },
      reportsDir: path.join(dir, 'reports'),
      providerApiUrl: sandbox.url,
      providers: ['wechatpay'],
      dates: { wechatpay: '2025-03-01' },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const [result] = outcome.results;
    expect(result?.status).toBe('succeeded');
    expect(result?.counts).toEqual({ matched: 2, amount_mismatch: 1, missing_at_provider: 1 });
    expect(result?.breaks).toEqual({ total: 3, healed: 1, unhealed: 2, informational: 0 });
    const breaks = await readFile(outcome.reportFiles[`wechatpay/${mchid}/2025-03-01`]!, 'utf8');
    expect(breaks.charCodeAt(0)).toBe(0xfeff);
    expect(breaks).toContain('NEVER-1');
    expect(outcome.alerts).toHaveLength(0); // alerts are raised by the handlers' reportOutcome, not here
    const [healed] =
      await db.sql`select amount_minor, status from payments where merchant_order_no = 'NEVER-1'`;
    expect(healed).toEqual({ amount_minor: 2000n, status: 'succeeded' });
  });

  it('service providers: heals a sub-merchant order never notified through the partner query the bill line names', async () => {
    const wx = sandbox.wechatpay!;
    const at = '2025-03-03T10:00:00+08:00';
    const sub = '1900000202';
    const never = wx.addTransaction({
      mchid,
      subMchid: sub,
      outTradeNo: 'SP-NEVER-1',
      amountFen: 6000,
      successTime: at,
      notified: false,
    });
    const outcome = await runLocalReconciliation({
      sql: db.sql,
      env: { WECHATPAY_MERCHANTS_FILE: await serviceProviderFile('sp-heal-merchants.json') },
      reportsDir: path.join(dir, 'reports-sp-heal'),
      providerApiUrl: sandbox.url,
      providers: ['wechatpay'],
      dates: { wechatpay: '2025-03-03' },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const [result] = outcome.results;
    expect(result?.status).toBe('succeeded');
    expect(result?.breaks).toMatchObject({ healed: 1, unhealed: 0 });
    // The direct order query does not know a sub-merchant's order: only the partner query could heal it.
    const [payment] = await db.sql`
      select amount_minor, status from payments where provider_payment_id = ${never.transactionId!}`;
    expect(payment).toEqual({ amount_minor: 6000n, status: 'succeeded' });
    const [mirrored] = await db.sql`
      select sub_mchid from wechatpay.transactions where id = ${never.transactionId!}`;
    expect(mirrored).toEqual({ sub_mchid: sub });
  });

  it('service providers: fetches, decrypts and joins the encrypted sub-merchant fund-flow bill of each sub-merchant', async () => {
    const wx = sandbox.wechatpay!;
    const at = '2025-03-02T10:00:00+08:00';
    const sub = '1900000201';
    const paid = wx.addTransaction({
      mchid,
      subMchid: sub,
      outTradeNo: 'SP-1',
      amountFen: 5000,
      successTime: at,
    });
    await seed(paid.transactionId!, 5000, '2025-03-02T02:00:00Z');
    const spFile = await serviceProviderFile('sp-merchants.json');

    const outcome = await runLocalReconciliation({
      sql: db.sql,
      env: { WECHATPAY_MERCHANTS_FILE: spFile },
      reportsDir: path.join(dir, 'reports-sp'),
      providerApiUrl: sandbox.url,
      providers: ['wechatpay'],
      dates: { wechatpay: '2025-03-02' },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const [result] = outcome.results;
    expect(result?.status).toBe('succeeded');
    expect(result?.counts).toMatchObject({ matched: 1 });
    const [run] = await db.sql<
      { source_files: { name: string; empty: boolean; rows: number; parts?: unknown[] }[] }[]
    >`
      select source_files from recon_runs where run_id = ${result!.runId}`;
    const subBill = run!.source_files.find((f) => f.name === `sub-fundflowbill-${sub}`);
    expect(subBill).toMatchObject({ empty: false });
    expect(subBill!.rows).toBeGreaterThan(0);
    expect(subBill!.parts?.length).toBeGreaterThanOrEqual(1);
    const lines = await db.sql`
      select 1 from recon_lines where run_id = ${result!.runId} and source = ${subBill!.name} and sub_account = ${sub}`;
    expect(lines.length).toBe(subBill!.rows);
  });
});
