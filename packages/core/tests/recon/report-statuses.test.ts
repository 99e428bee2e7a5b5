// What a row's state does to the report: REVOKED / CLOSED trade-bill rows are not paid (not in the payment totals),
// breaks.csv shows the provider's state as written beside the normalised one, and a Stripe refund still pending
// at report time is `pending` (informational), not a status mismatch. Real Postgres, bills and reports written
// with the test kit's writers.
import { Readable } from 'node:stream';
import { writeBalanceChangeReport, writePayoutsReport } from '@payhooks/testkit/reports/report-writer';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/ports.ts';
import type { StripeBalanceChangeRecord } from '../../src/recon/index.ts';
import { reconcile, type StripeReportApi, stripeSource, wechatpaySource } from '../../src/recon/run/index.ts';
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

const DATE = '2025-03-01';
const clock: Clock = { now: () => new Date('2025-03-02T03:00:00Z') };
const deps = (store: MemoryStore) => ({ sql: db.sql, store, clock, logger: silentLogger });

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

describe('report statuses', () => {
  it('REVOKED and CLOSED rows are kept out of the paid totals; breaks.csv shows the raw status', async () => {
    await insertPayment(db.sql, { id: 'T1', amount: 100n, orderNo: 'ORDER-1' });
    await insertPayment(db.sql, {
      id: 'T2',
      amount: 200n,
      orderNo: 'ORDER-2',
      status: 'canceled',
      succeededAt: null,
    });
    await insertPayment(db.sql, {
      id: 'T3',
      amount: 300n,
      orderNo: 'ORDER-3',
      status: 'canceled',
      succeededAt: null,
    });
    // The ledger says paid, the bill says REVOKED: a status break whose raw state finance must see.
    await insertPayment(db.sql, { id: 'T4', amount: 400n, orderNo: 'ORDER-4' });
    const bill = await billText([
      tradeRecord({ transactionId: 'T1', outTradeNo: 'ORDER-1', orderAmountFen: 100n }),
      tradeRecord({
        transactionId: 'T2',
        outTradeNo: 'ORDER-2',
        orderAmountFen: 200n,
        tradeState: 'REVOKED',
      }),
      tradeRecord({ transactionId: 'T3', outTradeNo: 'ORDER-3', orderAmountFen: 300n, tradeState: 'CLOSED' }),
      tradeRecord({
        transactionId: 'T4',
        outTradeNo: 'ORDER-4',
        orderAmountFen: 400n,
        tradeState: 'REVOKED',
      }),
    ]);
    const store = new MemoryStore();
    const result = await reconcile(deps(store), {
      source: wechatpaySource(billApi({ trade: bill }), { mchid: MCHID, businessDate: DATE }),
      businessDate: DATE,
    });
    expect(result.counts).toEqual({ matched: 3, status_mismatch: 1 });

    const summary = JSON.parse(store.text(result.reportKeys!.files['summary.json']!));
    expect(summary.totals.provider.CNY.payment).toMatchObject({ count: 1, amountMinor: '100' });
    expect(summary.totals.provider.CNY['payment:canceled']).toMatchObject({ count: 3, amountMinor: '900' });
    // Ledger: T1 and T4 succeeded; the bill paid T1 only.
    expect(summary.totals.ledger.CNY.payment).toMatchObject({ count: 2, amountMinor: '500' });
    expect(summary.totals.difference.CNY.payment).toMatchObject({ count: -1, amountMinor: '-400' });

    const rows = breaksCsvRows(store.text(result.reportKeys!.files['breaks.csv']!));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      class: 'status_mismatch',
      provider_payment_id: 'T4',
      provider_status: 'canceled',
      provider_status_raw: 'REVOKED',
      ledger_status: 'succeeded',
    });
  });

  it('a Stripe refund still pending at report time is `pending`, informational, not a status mismatch', async () => {
    await insertPayment(db.sql, {
      provider: 'stripe',
      account: '',
      id: 'pi_1',
      amount: 1000n,
      currency: 'USD',
      succeededAt: '2025-03-01T09:00:00Z',
    });
    await db.sql`
      insert into refunds (provider, provider_refund_id, provider_payment_id, account, merchant_refund_no,
        merchant_order_no, amount_minor, currency, status, status_rank, first_seen_at, succeeded_at, updated_at,
        last_event_id, version)
      values ('stripe', 're_pending', 'pi_1', '', null, null, 400, 'USD', 'pending', 10,
        '2025-03-01T10:00:00Z', null, '2025-03-01T10:00:00Z', 'evt-seed', '0:re_pending')`;
    const row = (overrides: Partial<StripeBalanceChangeRecord>): StripeBalanceChangeRecord => ({
      balanceTransactionId: 'txn_1',
      createdUtc: new Date('2025-03-01T10:00:00Z'),
      availableOnUtc: null,
      currency: 'USD',
      grossMinor: 0n,
      feeMinor: 0n,
      netMinor: 0n,
      reportingCategory: 'charge',
      sourceId: null,
      description: null,
      customerFacingAmountMinor: null,
      customerFacingCurrency: null,
      automaticPayoutId: null,
      customerId: null,
      chargeId: null,
      paymentIntentId: null,
      invoiceId: null,
      paymentMethodType: null,
      connectedAccountId: null,
      metadata: {},
      extra: {},
      ...overrides,
    });
    const balanceCsv = await text(
      writeBalanceChangeReport([
        row({
          grossMinor: 1000n,
          netMinor: 1000n,
          paymentIntentId: 'pi_1',
          chargeId: 'ch_1',
          sourceId: 'ch_1',
        }),
        row({
          balanceTransactionId: 'txn_2',
          reportingCategory: 'refund',
          grossMinor: -400n,
          netMinor: -400n,
          sourceId: 're_pending',
          chargeId: 'ch_1',
          paymentIntentId: 'pi_1',
        }),
      ]),
    );
    const files: Record<string, string> = {
      'balance_change_from_activity.itemized.3': balanceCsv,
      'payouts.itemized.3': await text(writePayoutsReport([])),
    };
    const runs = new Map<string, string>();
    const api: StripeReportApi = {
      async createReportRun(type) {
        const id = `frr_${runs.size + 1}`;
        runs.set(id, type);
        return { id, status: 'pending', result: null };
      },
      async waitForReportRun(id) {
        return { id, status: 'succeeded', result: { id: `file_${id}` } };
      },
      async downloadFile(file) {
        return Readable.from([Buffer.from(files[runs.get(file.replace(/^file_/, ''))!]!, 'utf8')]);
      },
    };
    const store = new MemoryStore();
    const result = await reconcile(deps(store), {
      source: stripeSource(api, {
        account: '',
        window: {
          businessDate: DATE,
          start: new Date('2025-03-01T00:00:00Z'),
          end: new Date('2025-03-02T00:00:00Z'),
        },
        orderMetadataKey: 'order_id',
        payoutReconciliation: false,
      }),
      businessDate: DATE,
    });
    expect(result.counts).toEqual({ matched: 1, pending: 1 });
    expect(result.breaks).toEqual({ total: 0, healed: 0, unhealed: 0, informational: 1 });
    const rows = breaksCsvRows(store.text(result.reportKeys!.files['breaks.csv']!));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      class: 'pending',
      provider_refund_id: 're_pending',
      provider_status: 'succeeded',
      provider_status_raw: 'refund',
      ledger_status: 'pending',
    });
    expect(rows[0]!.detail).toContain('refund pending in the ledger when the report ran');
  });
});
