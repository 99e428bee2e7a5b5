// Reconciliation at scale keeps only what finance must act on as rows: plain matches stay staged lines (no
// recon_items row each), matched.csv and the class totals still list every one of them, and healing re-matches only
// the objects it asked the provider about, leaving every other item as it was. Real Postgres, bills from the writer.
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/envelope.ts';
import type { EnvelopeNormalizer } from '../../src/ledger/index.ts';
import type { Clock } from '../../src/ports.ts';
import type { QueriedTransaction } from '../../src/providers/wechatpay/client.ts';
import { openNotification } from '../../src/providers/wechatpay/index.ts';
import {
  type Healer,
  type ReconcileDeps,
  reconcile,
  type WechatpayQueryApi,
  wechatpayHealer,
  wechatpaySource,
} from '../../src/recon/run/index.ts';
import { testMerchant, transactionResource } from '../helpers/wechatpay-fixtures.ts';
import { breaksCsvRows } from './reconcile-csv.ts';
import {
  billApi,
  billText,
  insertPayment,
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
const MATCHING = 40;

function deps(store: MemoryStore, extra: Partial<ReconcileDeps> = {}): ReconcileDeps {
  let n = 0;
  return {
    sql: db.sql,
    store,
    clock,
    logger: silentLogger,
    newRunId: () => `lean-${Date.now()}-${++n}`,
    ...extra,
  };
}

const payment = (id: string, amount: bigint, orderNo: string) =>
  tradeRecord({
    transactionId: id,
    outTradeNo: orderNo,
    orderAmountFen: amount,
    settlementAmountFen: amount,
  });

/** MATCHING plain matches, one amount mismatch (M2), one payment the ledger lacks (M5), one absent from the bill (M9). */
async function seedDay(): Promise<string> {
  const records = [];
  for (let i = 0; i < MATCHING; i += 1) {
    const id = `P${String(i).padStart(3, '0')}`;
    await insertPayment(db.sql, { id, amount: 100n + BigInt(i), orderNo: `ORD-${id}` });
    records.push(payment(id, 100n + BigInt(i), `ORD-${id}`));
  }
  await insertPayment(db.sql, { id: 'M2', amount: 200n, orderNo: 'ORD-M2' });
  await insertPayment(db.sql, { id: 'M9', amount: 900n, orderNo: 'ORD-M9' });
  records.splice(7, 0, payment('M2', 250n, 'ORD-M2'));
  records.splice(20, 0, payment('M5', 500n, 'ORD-M5'));
  return billText(records);
}

describe('reconciliation rows at scale', () => {
  it('writes items only for breaks; matched.csv and the class totals still list every plain match in bill order', async () => {
    const store = new MemoryStore();
    const result = await reconcile(deps(store), {
      source: wechatpaySource(billApi({ trade: await seedDay() }), { mchid: MCHID, businessDate: DATE }),
      businessDate: DATE,
    });

    expect(result.status).toBe('succeeded');
    expect(result.counts).toEqual({
      matched: MATCHING,
      amount_mismatch: 1,
      missing_in_ledger: 1,
      missing_at_provider: 1,
    });
    const items = await db.sql<{ class: string }[]>`
      select class from recon_items where run_id = ${result.runId!} order by class`;
    expect(items.map((i) => i.class)).toEqual([
      'amount_mismatch',
      'missing_at_provider',
      'missing_in_ledger',
    ]);

    const matched = breaksCsvRows(store.text(result.reportKeys!.files['matched.csv']!));
    expect(matched).toHaveLength(MATCHING);
    expect(matched.map((row) => Number(row.line))).toEqual(
      [...matched.map((row) => Number(row.line))].sort((a, b) => a - b),
    );
    expect(matched[0]).toMatchObject({
      kind: 'payment',
      provider_payment_id: 'P000',
      merchant_order_no: 'ORD-P000',
      currency: 'CNY',
      amount: '1.00',
      status: 'succeeded',
      source: 'tradebill',
      healed_from: '',
    });
    expect(matched.some((row) => row.provider_payment_id === 'M2' || row.provider_payment_id === 'M5')).toBe(
      false,
    );

    const summary = JSON.parse(store.text(result.reportKeys!.files['summary.json']!));
    const paid = (MATCHING * 100 + (MATCHING * (MATCHING - 1)) / 2) / 100;
    expect(summary.totalsByClass.matched.CNY).toEqual({
      count: MATCHING,
      provider: paid.toFixed(2),
      ledger: paid.toFixed(2),
    });
  });

  it('healing re-matches only the healed objects: the other items stay the very same rows', async () => {
    const store = new MemoryStore();
    const merchant = testMerchant();
    const api: WechatpayQueryApi = {
      async queryTransactionById(id): Promise<QueriedTransaction> {
        const resource = transactionResource({
          transaction_id: id,
          out_trade_no: `ORD-${id}`,
          success_time: '2025-03-01T10:00:00+08:00',
          amount: { total: 500, payer_total: 500, currency: 'CNY', payer_currency: 'CNY' },
        });
        return { transaction: resource as never, status: 'succeeded', rawBody: JSON.stringify(resource) };
      },
      async queryTransactionByOutTradeNo() {
        throw new Error('not used');
      },
      async queryRefund() {
        throw new Error('not used');
      },
    };
    const normalizer: EnvelopeNormalizer = (envelope: Envelope) =>
      openNotification(envelope.rawBody, merchant).event;
    const inner = wechatpayHealer(
      api,
      { id: merchant.id, mchid: merchant.mchid, apiv3Key: merchant.apiv3Key },
      clock,
    );
    let runId = '';
    let beforeHeal: { id: string; class: string }[] = [];
    // The healer runs after the first match and before the re-match: the moment to note which rows exist.
    const healer: Healer = {
      async envelopes(candidate) {
        beforeHeal = await db.sql<{ id: string; class: string }[]>`
          select id::text, class from recon_items where run_id = ${runId} and class <> 'missing_in_ledger' order by id`;
        return inner.envelopes(candidate);
      },
    };
    const result = await reconcile(
      deps(store, {
        healer,
        normalizer,
        onProgress: (progress) => {
          if (progress.stage === 'claimed') runId = progress.runId;
        },
      }),
      {
        source: wechatpaySource(billApi({ trade: await seedDay() }), { mchid: MCHID, businessDate: DATE }),
        businessDate: DATE,
      },
    );

    expect(result.status).toBe('succeeded');
    expect(result.breaks).toEqual({ total: 3, healed: 1, unhealed: 2, informational: 0 });
    expect(result.counts).toEqual({ matched: MATCHING + 1, amount_mismatch: 1, missing_at_provider: 1 });
    expect(beforeHeal.map((row) => row.class).sort()).toEqual(['amount_mismatch', 'missing_at_provider']);
    const after = await db.sql<{ id: string; class: string; healed_from: string | null }[]>`
      select id::text, class, healed_from from recon_items where run_id = ${runId} order by id`;
    // The untouched breaks are the rows the first match wrote; only the healed object's item is new.
    expect(after.filter((row) => row.healed_from === null)).toEqual(
      beforeHeal.map((row) => ({ ...row, healed_from: null })),
    );
    expect(after.filter((row) => row.healed_from !== null)).toEqual([
      { id: expect.any(String), class: 'matched', healed_from: 'missing_in_ledger' },
    ]);

    const matched = breaksCsvRows(store.text(result.reportKeys!.files['matched.csv']!));
    expect(matched).toHaveLength(MATCHING + 1);
    expect(matched.find((row) => row.provider_payment_id === 'M5')).toMatchObject({
      healed_from: 'missing_in_ledger',
      amount: '5.00',
    });
    const summary = JSON.parse(store.text(result.reportKeys!.files['summary.json']!));
    expect(summary.totalsByClass['missing_in_ledger (healed)'].CNY.count).toBe(1);
    expect(summary.totalsByClass.matched.CNY.count).toBe(MATCHING);
  });
});
