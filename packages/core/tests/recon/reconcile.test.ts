// Reconciliation runs on a real Postgres: crafted ledger rows + bills written with the bill writer → exactly the
// expected breaks and totals; healing through applyEnvelope; idempotent re-runs; hash mismatch; empty days.
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/envelope.ts';
import type { EnvelopeNormalizer } from '../../src/ledger/index.ts';
import type { Clock } from '../../src/ports.ts';
import type { QueriedRefund, QueriedTransaction } from '../../src/providers/wechatpay/client.ts';
import { openNotification } from '../../src/providers/wechatpay/index.ts';
import {
  businessWindow,
  getBreak,
  previousBusinessDate,
  type ReconcileDeps,
  reconcile,
  type WechatpayQueryApi,
  wechatpayHealer,
  wechatpaySource,
} from '../../src/recon/run/index.ts';
import { APIV3_KEY, testMerchant, transactionResource } from '../helpers/wechatpay-fixtures.ts';
import { breaksCsvRows } from './reconcile-csv.ts';
import {
  billApi,
  billText,
  insertPayment,
  insertRefund,
  MCHID,
  MemoryStore,
  silentLogger,
  tradeRecord,
  truncateReconTables,
} from './reconcile-helpers.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await truncateReconTables(db.sql);
});

const clock: Clock = { now: () => new Date('2025-03-02T03:00:00Z') };
const DATE = '2025-03-01';

function deps(store: MemoryStore, extra: Partial<ReconcileDeps> = {}): ReconcileDeps {
  let n = 0;
  return {
    sql: db.sql,
    store,
    clock,
    logger: silentLogger,
    newRunId: () => {
      n += 1;
      return `run-${Date.now()}-${n}`;
    },
    ...extra,
  };
}

/** Ledger and bill of the main scenario: one item per break class. */
async function seedScenario(): Promise<string> {
  await insertPayment(db.sql, { id: 'T1', amount: 100n, orderNo: 'ORDER-1' });
  await insertPayment(db.sql, { id: 'T2', amount: 200n, orderNo: 'ORDER-2' });
  await insertPayment(db.sql, { id: 'T3', amount: 5000n, currency: 'USD', orderNo: 'ORDER-3' });
  await insertPayment(db.sql, {
    id: 'T4',
    amount: 300n,
    status: 'pending',
    succeededAt: null,
    orderNo: 'ORDER-4',
  });
  await insertPayment(db.sql, {
    id: 'T6',
    amount: 600n,
    succeededAt: '2025-03-01T05:00:00Z',
    orderNo: 'ORDER-6',
  });
  // 23:55 Beijing: may be booked in the next day's bill.
  await insertPayment(db.sql, {
    id: 'T7',
    amount: 700n,
    succeededAt: '2025-03-01T15:55:00Z',
    orderNo: 'ORDER-7',
  });
  // Belongs to the previous business day (23:55 Beijing on 02-28): not this run's business.
  await insertPayment(db.sql, {
    id: 'T8',
    amount: 800n,
    succeededAt: '2025-02-28T15:55:00Z',
    orderNo: 'ORDER-8',
  });
  await insertRefund(db.sql, { id: 'R1', paymentId: 'T1', amount: 30n, refundNo: 'RF-1' });
  return billText([
    tradeRecord({
      transactionId: 'T1',
      outTradeNo: 'ORDER-1',
      orderAmountFen: 100n,
      settlementAmountFen: 100n,
    }),
    tradeRecord({
      transactionId: 'T1',
      outTradeNo: 'ORDER-1',
      orderAmountFen: 100n,
      settlementAmountFen: 100n,
    }),
    tradeRecord({
      transactionId: 'T2',
      outTradeNo: 'ORDER-2',
      orderAmountFen: 250n,
      settlementAmountFen: 250n,
    }),
    tradeRecord({
      transactionId: 'T3',
      outTradeNo: 'ORDER-3',
      orderAmountFen: 5000n,
      settlementAmountFen: 5000n,
    }),
    tradeRecord({
      transactionId: 'T4',
      outTradeNo: 'ORDER-4',
      orderAmountFen: 300n,
      settlementAmountFen: 300n,
    }),
    tradeRecord({
      transactionId: 'T5',
      outTradeNo: '订单-5',
      orderAmountFen: 400n,
      settlementAmountFen: 400n,
    }),
    tradeRecord({
      transactionId: 'T1',
      outTradeNo: 'ORDER-1',
      tradeState: 'REFUND',
      tradeTime: new Date('2025-03-01T03:00:00Z'),
      settlementAmountFen: 0n,
      orderAmountFen: 0n,
      refundId: 'R1',
      outRefundNo: 'RF-1',
      refundAmountFen: 30n,
      requestedRefundAmountFen: 30n,
      refundType: 'ORIGINAL',
      refundStatus: 'SUCCESS',
      feeMicro: -180n,
    }),
  ]);
}

const byClass = (rows: Record<string, string>[]) =>
  rows.map((r) => `${r.class}:${r.kind}:${r.provider_refund_id || r.provider_payment_id}:${r.healed}`).sort();

describe('WeChat Pay reconciliation', () => {
  it('classifies a crafted ledger + bill into exactly the expected breaks, totals and fees', async () => {
    const bill = await seedScenario();
    const store = new MemoryStore();
    const source = wechatpaySource(billApi({ trade: bill }), { mchid: MCHID, businessDate: DATE });
    const result = await reconcile(deps(store), { source, businessDate: DATE });

    expect(result.status).toBe('succeeded');
    expect(result.counts).toEqual({
      matched: 2,
      duplicate: 1,
      amount_mismatch: 1,
      currency_mismatch: 1,
      status_mismatch: 1,
      missing_in_ledger: 1,
      missing_at_provider: 1,
      pending_next_bill: 1,
    });
    expect(result.breaks).toEqual({ total: 6, healed: 0, unhealed: 6, informational: 1 });

    const pointer = JSON.parse(store.text(`wechatpay/${MCHID}/${DATE}/latest.json`));
    expect(pointer.runId).toBe(result.runId);
    const rows = breaksCsvRows(store.text(pointer.files['breaks.csv']));
    expect(byClass(rows)).toEqual([
      'amount_mismatch:payment:T2:false',
      'currency_mismatch:payment:T3:false',
      'duplicate:payment:T1:false',
      'missing_at_provider:payment:T6:false',
      'missing_in_ledger:payment:T5:false',
      'pending_next_bill:payment:T7:false',
      'status_mismatch:payment:T4:false',
    ]);
    const t2 = rows.find((r) => r.provider_payment_id === 'T2')!;
    expect([t2.provider_amount, t2.ledger_amount, t2.provider_currency]).toEqual(['2.50', '2.00', 'CNY']);
    const t4 = rows.find((r) => r.provider_payment_id === 'T4')!;
    expect([t4.provider_status, t4.ledger_status]).toEqual(['succeeded', 'pending']);
    expect(rows.find((r) => r.provider_payment_id === 'T5')!.merchant_order_no).toBe('订单-5');
    expect(rows.every((r) => r.suggested_action !== '')).toBe(true);

    const summary = JSON.parse(store.text(pointer.files['summary.json']));
    // Bill: T1 twice, T2 2.50, T3 50.00, T4 3.00, T5 4.00; ledger: succeeded payments of the day (T1, T2, T6, T7).
    expect(summary.totals.provider.CNY.payment).toMatchObject({ count: 6, amountMinor: '6150' });
    expect(summary.totals.ledger.CNY.payment).toMatchObject({ count: 4, amountMinor: '1600' });
    expect(summary.totals.ledger.USD.payment).toMatchObject({ count: 1, amountMinor: '5000' });
    expect(summary.totals.difference.CNY.payment).toMatchObject({ count: 2, amountMinor: '4550' });
    expect(summary.totals.provider.CNY.refund).toMatchObject({ count: 1, amountMinor: '30' });
    expect(summary.totals.ledger.CNY.refund).toMatchObject({ count: 1, amountMinor: '30' });
    // Fees exactly, 5 decimals: six payment rows at 0.00600 and the refund's −0.00180.
    expect(summary.totals.fees).toEqual({ CNY: '0.03420' });
    expect(summary.sourceFiles[0]).toMatchObject({ name: 'tradebill', empty: false, rows: 7 });
    expect(summary.sourceFiles[0].sha1Plaintext).toBe(summary.sourceFiles[0].expectedSha1);
    expect(summary.sourceFiles[1]).toMatchObject({ name: 'fundflowbill', empty: true, rows: 0 });

    const [run] = await db.sql`select * from recon_runs`;
    expect(run).toMatchObject({ status: 'succeeded', run_id: result.runId, unhealed_breaks: 6 });
    expect(run!.source_files[0].expectedSha1).toMatch(/^[0-9a-f]{40}$/);
    expect(run!.report_keys.pointerKey).toBe(`wechatpay/${MCHID}/${DATE}/latest.json`);

    const matched = store.text(pointer.files['matched.csv']).split('\r\n').filter(Boolean);
    expect(matched).toHaveLength(3); // header + T1 + R1
  });

  it('writes CSVs as UTF-8 with a BOM that decode strictly', async () => {
    const bill = await seedScenario();
    const store = new MemoryStore();
    const result = await reconcile(deps(store), {
      source: wechatpaySource(billApi({ trade: bill }), { mchid: MCHID, businessDate: DATE }),
      businessDate: DATE,
    });
    const bytes = (await store.get(result.reportKeys!.files['breaks.csv']!))!;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    expect(text).toContain('订单-5');
    expect(store.objects.get(result.reportKeys!.files['breaks.csv']!)!.contentType).toBe(
      'text/csv; charset=utf-8',
    );
  });

  it('midnight tolerance: pending_next_bill is matched by the next bill, and a break when that bill lacks it too', async () => {
    const bill = await seedScenario();
    const store = new MemoryStore();
    await reconcile(deps(store), {
      source: wechatpaySource(billApi({ trade: bill }), { mchid: MCHID, businessDate: DATE }),
      businessDate: DATE,
    });
    const next = '2025-03-02';
    const withT7 = await billText([
      tradeRecord({ transactionId: 'T7', outTradeNo: 'ORDER-7', orderAmountFen: 700n }),
    ]);
    const found = await reconcile(deps(store), {
      source: wechatpaySource(billApi({ trade: withT7 }), { mchid: MCHID, businessDate: next }),
      businessDate: next,
    });
    expect(found.counts).toEqual({ matched: 1 });

    const lacking = await reconcile(deps(store), {
      source: wechatpaySource(billApi({}), { mchid: MCHID, businessDate: next }),
      businessDate: next,
      force: true,
    });
    expect(lacking.counts).toEqual({ missing_at_provider: 1 });
    const [item] =
      await db.sql`select provider_payment_id, detail from recon_items where run_id = ${lacking.runId}`;
    expect(item).toMatchObject({ provider_payment_id: 'T7' });
    expect(item!.detail).toContain('previous day');
  });

  it('midnight tolerance, other way: booked in the previous bill though the ledger dates it just after midnight', async () => {
    const store = new MemoryStore();
    // 00:04 Beijing on 03-02 in the ledger; the provider listed it in the 03-01 bill.
    await insertPayment(db.sql, {
      id: 'T9',
      amount: 900n,
      succeededAt: '2025-03-01T16:04:00Z',
      orderNo: 'ORDER-9',
    });
    const previous = await reconcile(deps(store), {
      source: wechatpaySource(
        billApi({
          trade: await billText([
            tradeRecord({ transactionId: 'T9', outTradeNo: 'ORDER-9', orderAmountFen: 900n }),
          ]),
        }),
        { mchid: MCHID, businessDate: DATE },
      ),
      businessDate: DATE,
    });
    expect(previous.status).toBe('succeeded');
    const next = await reconcile(deps(store), {
      source: wechatpaySource(billApi({}), { mchid: MCHID, businessDate: '2025-03-02' }),
      businessDate: '2025-03-02',
    });
    expect(next.counts).toEqual({});
  });

  it('heals missing-in-ledger and status breaks through applyEnvelope, then re-matches and flags them healed', async () => {
    const bill = await seedScenario();
    const store = new MemoryStore();
    const merchant = testMerchant();
    const queried: string[] = [];
    const answer = (resource: Record<string, unknown>): QueriedTransaction => ({
      transaction: resource as never,
      status: 'succeeded',
      rawBody: JSON.stringify(resource),
    });
    const api: WechatpayQueryApi = {
      async queryTransactionById(id) {
        queried.push(id);
        const total = id === 'T5' ? 400 : 300;
        const { amount, ...rest } = transactionResource({
          transaction_id: id,
          out_trade_no: id === 'T5' ? '订单-5' : 'ORDER-4',
          success_time: '2025-03-01T10:00:00+08:00',
        });
        void amount;
        // The query answers amount without currency: the healer must fill it in.
        return answer({ ...rest, amount: { total, payer_total: total, payer_currency: 'CNY' } });
      },
      async queryTransactionByOutTradeNo() {
        throw new Error('not used');
      },
      async queryRefund(): Promise<QueriedRefund> {
        throw new Error('not used');
      },
    };
    const normalizer: EnvelopeNormalizer = (envelope: Envelope) =>
      openNotification(envelope.rawBody, merchant).event;
    const healer = wechatpayHealer(
      api,
      { id: merchant.id, mchid: merchant.mchid, apiv3Key: merchant.apiv3Key },
      clock,
    );
    const result = await reconcile(deps(store, { healer, normalizer }), {
      source: wechatpaySource(billApi({ trade: bill }), { mchid: MCHID, businessDate: DATE }),
      businessDate: DATE,
    });

    expect(queried.sort()).toEqual(['T4', 'T5']);
    expect(result.counts).toMatchObject({ matched: 4 });
    expect(result.counts.missing_in_ledger).toBeUndefined();
    expect(result.counts.status_mismatch).toBeUndefined();
    expect(result.breaks).toEqual({ total: 6, healed: 2, unhealed: 4, informational: 1 });
    const rows = breaksCsvRows(store.text(result.reportKeys!.files['breaks.csv']!));
    expect(byClass(rows)).toContain('missing_in_ledger:payment:T5:true');
    expect(byClass(rows)).toContain('status_mismatch:payment:T4:true');
    // Healed within the run, it is a break in the register all the same: detected, then healed, by this run.
    const t5Row = rows.find((r) => r.provider_payment_id === 'T5')!;
    expect(t5Row.break_state).toBe('healed');
    const t5Break = (await getBreak(db.sql, BigInt(t5Row.break_id!)))!;
    expect(t5Break).toMatchObject({ state: 'healed', closedByRun: result.runId });
    expect(t5Break.healHistory.map((e) => [e.action, e.fromState, e.toState])).toEqual([
      ['detected', null, 'open'],
      ['healed', 'open', 'healed'],
    ]);
    expect(t5Break.healHistory[1]!.note).toContain('provider query applied');
    expect(t5Break.sightings).toEqual([expect.objectContaining({ healedInRun: true, runId: result.runId })]);

    // The heal went through the inbox like a callback, encrypted: no payer data in plaintext.
    const inbox = await db.sql`select event_id, account, raw_payload from inbox_events order by event_id`;
    expect(inbox).toHaveLength(2);
    for (const row of inbox) {
      expect(row.account).toBe(merchant.id);
      expect(row.raw_payload).not.toContain('oUpF8uMuAJO');
      expect(JSON.parse(row.raw_payload).resource.algorithm).toBe('AEAD_AES_256_GCM');
    }
    const [t5] =
      await db.sql`select amount_minor, status, merchant_order_no from payments where provider_payment_id = 'T5'`;
    expect(t5).toEqual({ amount_minor: 400n, status: 'succeeded', merchant_order_no: '订单-5' });
    expect(APIV3_KEY).toHaveLength(32);
  });

  it('re-running a date is a no-op unless forced, and a forced re-run replaces the report idempotently', async () => {
    const bill = await seedScenario();
    const store = new MemoryStore();
    const api = billApi({ trade: bill });
    const source = () => wechatpaySource(api, { mchid: MCHID, businessDate: DATE });
    const first = await reconcile(deps(store), { source: source(), businessDate: DATE });
    const again = await reconcile(deps(store), { source: source(), businessDate: DATE });
    expect(again.status).toBe('skipped');
    expect(api.downloads).toBe(1);

    const forced = await reconcile(deps(store), { source: source(), businessDate: DATE, force: true });
    expect(forced.status).toBe('succeeded');
    expect(forced.runId).not.toBe(first.runId);
    expect(forced.counts).toEqual(first.counts);
    const pointer = JSON.parse(store.text(`wechatpay/${MCHID}/${DATE}/latest.json`));
    expect(pointer.runId).toBe(forced.runId);
    expect(store.text(forced.reportKeys!.files['breaks.csv']!)).toBe(
      store.text(first.reportKeys!.files['breaks.csv']!),
    );
    expect(store.text(forced.reportKeys!.files['matched.csv']!)).toBe(
      store.text(first.reportKeys!.files['matched.csv']!),
    );
    const runs = await db.sql`select run_id, attempt, status from recon_runs`;
    expect(runs).toEqual([{ run_id: forced.runId, attempt: 2, status: 'succeeded' }]);
    const staged = await db.sql`select distinct run_id from recon_lines`;
    expect(staged.map((r) => r.run_id)).toEqual([forced.runId]);
    const itemRuns = await db.sql`select distinct run_id from recon_items`;
    expect(itemRuns.map((r) => r.run_id)).toEqual([forced.runId]);
  });

  it('a SHA-1 mismatch fails the run loudly, keeps the downloaded file, stages nothing and publishes nothing', async () => {
    const bill = await seedScenario();
    const store = new MemoryStore();
    const api = billApi({ trade: bill, announcedSha1: 'ab'.repeat(20) });
    const result = await reconcile(deps(store), {
      source: wechatpaySource(api, { mchid: MCHID, businessDate: DATE }),
      businessDate: DATE,
    });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('BILL_HASH_MISMATCH');
    expect(result.keptFiles).toEqual([
      `wechatpay/${MCHID}/${DATE}/quarantine/${result.runId}/tradebill.csv.gz`,
    ]);
    expect(
      Buffer.compare(Buffer.from((await store.get(result.keptFiles![0]!))!), api.served.get('trade')!),
    ).toBe(0);
    expect(await store.list(`wechatpay/${MCHID}/${DATE}/latest.json`)).toEqual([]);
    expect(await store.list(`wechatpay/${MCHID}/${DATE}/runs/`)).toEqual([]);
    const [run] = await db.sql`select status, error_code, error from recon_runs`;
    expect(run).toMatchObject({ status: 'failed', error_code: 'BILL_HASH_MISMATCH' });
    expect(run!.error).toContain('SHA-1');
    expect(await db.sql`select 1 from recon_lines`).toHaveLength(0);

    // A failed date is retried by the next scheduled attempt without force.
    const retry = await reconcile(deps(store), {
      source: wechatpaySource(billApi({ trade: bill }), { mchid: MCHID, businessDate: DATE }),
      businessDate: DATE,
    });
    expect(retry.status).toBe('succeeded');
  });

  it('a day without a bill is an empty bill: succeeded with zero lines', async () => {
    const store = new MemoryStore();
    const result = await reconcile(deps(store), {
      source: wechatpaySource(billApi({}), { mchid: MCHID, businessDate: DATE }),
      businessDate: DATE,
    });
    expect(result.status).toBe('succeeded');
    expect(result.counts).toEqual({});
    expect(result.breaks.unhealed).toBe(0);
    const summary = JSON.parse(store.text(result.reportKeys!.files['summary.json']!));
    expect(summary.sourceFiles.map((f: { empty: boolean; rows: number }) => [f.empty, f.rows])).toEqual([
      [true, 0],
      [true, 0],
    ]);
    expect(breaksCsvRows(store.text(result.reportKeys!.files['breaks.csv']!))).toEqual([]);
  });

  it('business windows: Asia/Shanghai days for WeChat Pay, UTC days for Stripe, yesterday in the provider zone', () => {
    expect(businessWindow('wechatpay', DATE).start.toISOString()).toBe('2025-02-28T16:00:00.000Z');
    expect(businessWindow('stripe', DATE).end.toISOString()).toBe('2025-03-02T00:00:00.000Z');
    // 2025-03-01T17:00Z is already 03-02 in Shanghai.
    expect(previousBusinessDate('wechatpay', new Date('2025-03-01T17:00:00Z'))).toBe('2025-03-01');
    expect(previousBusinessDate('stripe', new Date('2025-03-01T17:00:00Z'))).toBe('2025-02-28');
  });
});

describe('report cells finance opens in a spreadsheet', () => {
  it('neutralises formula-looking text and keeps signed amounts as numbers', async () => {
    const { spreadsheetSafe } = await import('../../src/recon/run/report.ts');
    expect(spreadsheetSafe('=HYPERLINK("http://x")')).toBe('\'=HYPERLINK("http://x")');
    expect(spreadsheetSafe('+1-555')).toBe("'+1-555");
    expect(spreadsheetSafe('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(spreadsheetSafe('-cmd')).toBe("'-cmd");
    expect(spreadsheetSafe('-12.50')).toBe('-12.50');
    expect(spreadsheetSafe('ORDER-1')).toBe('ORDER-1');
    expect(spreadsheetSafe('')).toBe('');
  });
});
