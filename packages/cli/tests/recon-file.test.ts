// `payhooks recon run --file`: a bill or report file finance already has (plain, gzip, WeChat Pay's encrypted
// sub-merchant form) goes through the same parser, matcher and report as the scheduled run; the report says its
// source was a file, with the file's SHA-256. Through commander like the bin, against an embedded Postgres.
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { packEncryptedBill } from '@payhooks/testkit/bills/bill-fixtures';
import { successfulTrade, writeFundFlowBill, writeTradeBill } from '@payhooks/testkit/bills/bill-writer';
import {
  writeBalanceChangeReport,
  writePayoutReconciliationReport,
} from '@payhooks/testkit/reports/report-writer';
import { sandboxMerchantsFromGenerated } from '@payhooks/testkit/sandbox/provider-api';
import { generateSandboxMerchants, writeMerchantsFile } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerRecon } from '../src/commands/reconciliation.ts';
import { createContext } from '../src/context.ts';
import { awsStagePorts } from '../src/target.ts';

const MCHID = '1900000109';
let db: TestDatabase;
let dir: string;
const saved = { ...process.env };
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'payhooks-cli-recon-file-'));
  process.env.DATABASE_URL = db.url;
  process.env.REPORTS_DIR = path.join(dir, 'reports');
  delete process.env.REPORTS_BUCKET;
  await db.sql`truncate payments, refunds, inbox_events, recon_runs, recon_lines, recon_items`;
});
afterEach(async () => {
  process.env = { ...saved };
  process.exitCode = undefined;
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<string> {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...values: unknown[]) => void out.push(values.join(' ')));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const program = new Command('payhooks').exitOverride();
  registerRecon(program, createContext(awsStagePorts));
  await program.parseAsync(['node', 'payhooks', ...args]);
  return out.join('\n');
}

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const trade = (transactionId: string, outTradeNo: string, fen: bigint) =>
  successfulTrade(MCHID, transactionId, outTradeNo, fen);

const seedPayment = (
  provider: string,
  account: string,
  id: string,
  amount: number,
  currency: string,
) => db.sql`
  insert into payments (provider, provider_payment_id, account, merchant_order_no, amount_minor, currency, status,
    status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
  values (${provider}, ${id}, ${account}, ${`O-${id}`}, ${amount}, ${currency}, 'succeeded', 100,
    '2025-03-01T02:00:00Z', '2025-03-01T02:00:00Z', '2025-03-01T02:00:00Z', 'seed', ${`0:${id}`})`;

async function currentSummary(provider: string, account: string) {
  const reports = process.env.REPORTS_DIR!;
  const pointer = JSON.parse(
    await readFile(path.join(reports, provider, account, '2025-03-01', 'latest.json'), 'utf8'),
  ) as { files: Record<string, string> };
  return JSON.parse(await readFile(path.join(reports, pointer.files['summary.json']!), 'utf8')) as {
    counts: Record<string, number>;
    sourceFiles: {
      name: string;
      origin?: string;
      fileName?: string;
      sha256Downloaded: string;
      rows: number;
    }[];
  };
}

describe('payhooks recon run --file', () => {
  it('reconciles a gzip WeChat Pay trade bill from disk and records the file and its SHA-256', async () => {
    await seedPayment('wechatpay', MCHID, '4200000000000000000001', 1000, 'CNY');
    await seedPayment('wechatpay', MCHID, '4200000000000000000002', 2000, 'CNY');
    const text = await collect(
      writeTradeBill([
        trade('4200000000000000000001', 'O-1', 1000n),
        trade('4200000000000000000003', 'O-3', 3000n),
      ]),
    );
    const gz = gzipSync(Buffer.from(text, 'utf8'));
    const file = path.join(dir, 'tradebill-2025-03-01.csv.gz');
    await writeFile(file, gz);

    const out = await run(
      'recon',
      'run',
      '--provider',
      'wechatpay',
      '--merchant',
      MCHID,
      '--date',
      '2025-03-01',
      '--file',
      file,
    );
    expect(out).toContain('from a file');
    const summary = await currentSummary('wechatpay', MCHID);
    expect(summary.counts).toEqual({ matched: 1, missing_in_ledger: 1, missing_at_provider: 1 });
    expect(summary.sourceFiles).toEqual([
      expect.objectContaining({
        name: 'tradebill',
        origin: 'file',
        fileName: 'tradebill-2025-03-01.csv.gz',
        sha256Downloaded: sha256(gz),
        rows: 2,
      }),
    ]);
  });

  it('reconciles a plain Stripe balance change report, and refuses a file run without --date', async () => {
    await seedPayment('stripe', '', 'pi_1', 1999, 'USD');
    const csv = await collect(
      writeBalanceChangeReport([
        {
          balanceTransactionId: 'txn_1',
          createdUtc: new Date('2025-03-01T10:00:00Z'),
          availableOnUtc: null,
          currency: 'USD',
          grossMinor: 1999n,
          feeMinor: 88n,
          netMinor: 1911n,
          reportingCategory: 'charge',
          sourceId: 'ch_1',
          description: null,
          customerFacingAmountMinor: null,
          customerFacingCurrency: null,
          automaticPayoutId: null,
          customerId: null,
          chargeId: 'ch_1',
          paymentIntentId: 'pi_1',
          invoiceId: null,
          paymentMethodType: null,
          connectedAccountId: null,
          metadata: {},
          extra: {},
        },
      ]),
    );
    const file = path.join(dir, 'balance.csv');
    await writeFile(file, csv);
    await run(
      'recon',
      'run',
      '--provider',
      'stripe',
      '--merchant',
      'platform',
      '--date',
      '2025-03-01',
      '--file',
      file,
    );
    const summary = await currentSummary('stripe', 'platform');
    expect(summary.counts).toEqual({ matched: 1 });
    expect(summary.sourceFiles[0]).toMatchObject({
      name: 'balance_change',
      origin: 'file',
      sha256Downloaded: sha256(Buffer.from(csv, 'utf8')),
    });
    await expect(
      run('recon', 'run', '--provider', 'stripe', '--merchant', 'platform', '--file', file),
    ).rejects.toThrow(/--file needs --date/);
  });

  it('reconciles a Stripe payout reconciliation report alone: each payout against the transactions it lists', async () => {
    await db.sql`truncate recon_payout_transactions, stripe.payouts`;
    // A payment of the day that the payout file does not list: not missing_at_provider (the file is about payouts).
    await seedPayment('stripe', '', 'pi_unlisted', 700, 'USD');
    for (const [id, amount] of [
      ['po_ok', 1455],
      ['po_bad', 900],
    ] as const) {
      await db.sql`insert into stripe.payouts (id, account, status, data, first_seen_at, updated_at, last_event_id, version)
        values (${id}, '', 'paid', ${db.sql.json({ id, object: 'payout', amount, currency: 'usd', status: 'paid' })},
                now(), now(), 'evt_seed', '0')`;
    }
    const row = (payout: string, txn: string, gross: bigint, fee: bigint) => ({
      automaticPayoutId: payout,
      automaticPayoutEffectiveAtUtc: new Date('2025-03-01T12:00:00Z'),
      balanceTransactionId: txn,
      createdUtc: new Date('2025-02-27T10:00:00Z'),
      availableOnUtc: null,
      currency: 'USD',
      grossMinor: gross,
      feeMinor: fee,
      netMinor: gross - fee,
      reportingCategory: 'charge',
      sourceId: `ch_${txn}`,
      description: null,
      customerId: null,
      chargeId: `ch_${txn}`,
      paymentIntentId: `pi_${txn}`,
      connectedAccountId: null,
      metadata: {},
      extra: {},
    });
    const csv = await collect(
      writePayoutReconciliationReport([
        row('po_ok', 'txn_1', 1000n, 30n),
        row('po_ok', 'txn_2', 500n, 15n),
        row('po_bad', 'txn_3', 1000n, 30n),
      ]),
    );
    const file = path.join(dir, 'payout_reconciliation.csv');
    await writeFile(file, csv);
    await run(
      'recon',
      'run',
      '--provider',
      'stripe',
      '--merchant',
      'platform',
      '--date',
      '2025-03-01',
      '--file',
      file,
    );
    const summary = (await currentSummary('stripe', 'platform')) as Awaited<
      ReturnType<typeof currentSummary>
    > & { payouts: { payoutId: string; linkedTransactions: number; differenceMinor: string }[] };
    expect(summary.counts).toEqual({ payout_mismatch: 1 });
    expect(summary.sourceFiles[0]).toMatchObject({ name: 'payout_reconciliation', origin: 'file', rows: 3 });
    expect(summary.payouts.map((p) => [p.payoutId, p.linkedTransactions, p.differenceMinor])).toEqual([
      ['po_bad', 1, '-70'],
      ['po_ok', 2, '0'],
    ]);
  });

  it('decrypts WeChat Pay’s encrypted sub-merchant fund-flow bill with the merchant key from the merchants file', async () => {
    const generated = await generateSandboxMerchants();
    const merchantsFile = await writeMerchantsFile(path.join(dir, 'merchants.json'), {
      merchants: [generated.document.merchants[0]!],
    });
    const merchant = sandboxMerchantsFromGenerated(generated)[0]!;
    const text = await collect(
      writeFundFlowBill([
        {
          bookedAt: new Date('2025-03-01T02:00:00Z'),
          businessId: '4200000000000000000001',
          flowId: '50000000000000000001',
          businessName: '退款',
          businessType: '交易',
          direction: 'income',
          amountFen: 1000n,
          balanceFen: 1000n,
          applicant: 'system',
          note: '',
          voucherNo: '',
        },
      ]),
    );
    const publicKey =
      merchant.merchantKey.type === 'private' ? createPublicKey(merchant.merchantKey) : merchant.merchantKey;
    const [part] = packEncryptedBill(text, { merchantPublicKey: publicKey, parts: 1 });
    const file = path.join(dir, 'sub-bill.bin');
    await writeFile(file, part!.body);
    process.env.WECHATPAY_MERCHANTS_FILE = merchantsFile;
    // biome-ignore format: one flag per line reads better here
    await run('recon', 'run', '--provider', 'wechatpay', '--merchant', merchant.mchid, '--date', '2025-03-01',
      '--file', file, '--encrypt-key', part!.encryptKey, '--nonce', part!.nonce, '--sha1', part!.hashValue,
      '--sub-merchant', '1900000201');
    const summary = await currentSummary('wechatpay', merchant.mchid);
    expect(summary.sourceFiles[0]).toMatchObject({
      name: 'sub-fundflowbill-1900000201',
      origin: 'file',
      rows: 1,
      sha256Downloaded: sha256(part!.body),
    });
  });
});
