// Stripe payouts against the balance transactions they settle, across business dates, on a real Postgres: report
// CSVs written with the test kit's writers; a payout whose linked transactions do not add up is a payout_mismatch
// break with an identity in the register; gross / fees / net per day.
import { Readable } from 'node:stream';
import { writeBalanceChangeReport, writePayoutsReport } from '@payhooks/testkit/reports/report-writer';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/ports.ts';
import type { StripeBalanceChangeRecord, StripePayoutRecord } from '../../src/recon/index.ts';
import {
  listBreaks,
  payoutTransactions,
  type ReconcileResult,
  reconcile,
  reconOverview,
  type StripeReportApi,
  stripeSource,
} from '../../src/recon/run/index.ts';
import { breaksCsvRows } from './reconcile-csv.ts';
import { insertPayment, insertRefund, MemoryStore, silentLogger } from './reconcile-helpers.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const clock: Clock = { now: () => new Date('2025-03-03T20:00:00Z') };

function balance(overrides: Partial<StripeBalanceChangeRecord> & { balanceTransactionId: string }) {
  const gross = overrides.grossMinor ?? 0n;
  const fee = overrides.feeMinor ?? 0n;
  return {
    createdUtc: new Date('2025-03-01T10:00:00Z'),
    availableOnUtc: null,
    currency: 'USD',
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
    grossMinor: gross,
    feeMinor: fee,
    netMinor: gross - fee,
  } satisfies StripeBalanceChangeRecord;
}

function payout(payoutId: string, amount: bigint): StripePayoutRecord {
  return {
    payoutId,
    effectiveAtUtc: new Date('2025-03-02T12:00:00Z'),
    currency: 'USD',
    grossMinor: amount,
    feeMinor: 0n,
    netMinor: amount,
    reportingCategory: 'payout',
    description: null,
    expectedArrivalDate: '2025-03-04',
    status: 'paid',
    reversedAtUtc: null,
    type: 'bank_account',
    payoutDescription: null,
    destinationId: null,
    balanceTransactionId: `txn_${payoutId}`,
    metadata: {},
    extra: {},
  };
}

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

/** A Reports API that serves the given CSV per report type. */
function reportApi(files: Record<string, string>): StripeReportApi {
  const runs = new Map<string, string>();
  return {
    async reportTypeAvailability(reportType: string) {
      return {
        reportType,
        dataAvailableStart: new Date(0),
        dataAvailableEnd: new Date('2025-03-04T00:00:00Z'),
      };
    },
    async createReportRun(type: string) {
      const id = `frr_${runs.size + 1}`;
      runs.set(id, type);
      return { id, status: 'pending', result: null };
    },
    async waitForReportRun(id: string) {
      return {
        id,
        status: 'succeeded',
        result: { id: `file_${id}`, url: `https://files.stripe.com/v1/files/file_${id}` },
      };
    },
    async downloadFile(url: string) {
      const type = runs.get(url.replace(/^.*file_(frr_\d+).*$/, '$1'))!;
      return Readable.from([Buffer.from(files[type]!, 'utf8')]);
    },
  };
}

async function runDay(
  date: string,
  transactions: StripeBalanceChangeRecord[],
  payouts: StripePayoutRecord[],
): Promise<{ result: ReconcileResult; store: MemoryStore }> {
  const api = reportApi({
    'balance_change_from_activity.itemized.3': await text(writeBalanceChangeReport(transactions)),
    'payouts.itemized.3': await text(writePayoutsReport(payouts)),
  });
  const store = new MemoryStore();
  const start = new Date(`${date}T00:00:00Z`);
  const result = await reconcile(
    { sql: db.sql, store, clock, logger: silentLogger },
    {
      source: stripeSource(api, {
        account: '',
        window: { businessDate: date, start, end: new Date(start.getTime() + 86_400_000) },
        orderMetadataKey: 'order_id',
        payoutReconciliation: false,
      }),
      businessDate: date,
    },
  );
  expect(result.status).toBe('succeeded');
  return { result, store };
}

async function mirrorPayout(id: string, amount: number): Promise<void> {
  await db.sql`insert into stripe.payouts (id, account, status, data, first_seen_at, updated_at, last_event_id, version)
    values (${id}, '', 'paid', ${db.sql.json({ id, object: 'payout', amount, currency: 'usd', status: 'paid' })},
            now(), now(), 'evt_seed', '0')`;
}

describe('Stripe payouts and the balance transactions they settle', () => {
  it('links transactions of several days to their payout; a payout they do not add up to is a payout_mismatch break', async () => {
    const stripe = { provider: 'stripe' as const, account: '', currency: 'USD' };
    await insertPayment(db.sql, {
      ...stripe,
      id: 'pi_a',
      amount: 1000n,
      succeededAt: '2025-03-01T09:00:00Z',
    });
    await insertPayment(db.sql, { ...stripe, id: 'pi_b', amount: 500n, succeededAt: '2025-03-01T09:10:00Z' });
    await insertPayment(db.sql, { ...stripe, id: 'pi_c', amount: 300n, succeededAt: '2025-03-02T09:00:00Z' });
    await insertRefund(db.sql, {
      ...stripe,
      id: 're_d',
      paymentId: 'pi_a',
      amount: 100n,
      refundNo: 'rd',
      succeededAt: '2025-03-02T10:00:00Z',
    });
    await mirrorPayout('po_A', 1161);
    await mirrorPayout('po_B', 500);
    await mirrorPayout('po_C', 700);

    // 03-01: two charges, settled by po_A and po_B (automatic_payout_id), no payout that day.
    const day1 = await runDay(
      '2025-03-01',
      [
        balance({
          balanceTransactionId: 'txn_a',
          grossMinor: 1000n,
          feeMinor: 30n,
          paymentIntentId: 'pi_a',
          chargeId: 'ch_a',
          sourceId: 'ch_a',
          automaticPayoutId: 'po_A',
        }),
        balance({
          balanceTransactionId: 'txn_b',
          grossMinor: 500n,
          feeMinor: 15n,
          paymentIntentId: 'pi_b',
          chargeId: 'ch_b',
          sourceId: 'ch_b',
          automaticPayoutId: 'po_B',
        }),
      ],
      [],
    );
    expect(day1.result.counts).toEqual({ matched: 2 });

    // 03-02: a charge and a refund for po_A; payouts po_A (9.70 + 2.91 − 1.00 = 11.61: adds up), po_B (5.00, but
    // its one transaction nets 4.85) and po_C (no reconciled transaction names it yet: listed, not a break).
    const created = new Date('2025-03-02T10:00:00Z');
    const { result, store } = await runDay(
      '2025-03-02',
      [
        balance({
          balanceTransactionId: 'txn_c',
          createdUtc: created,
          grossMinor: 300n,
          feeMinor: 9n,
          paymentIntentId: 'pi_c',
          chargeId: 'ch_c',
          sourceId: 'ch_c',
          automaticPayoutId: 'po_A',
        }),
        balance({
          balanceTransactionId: 'txn_d',
          createdUtc: created,
          reportingCategory: 'refund',
          grossMinor: -100n,
          sourceId: 're_d',
          chargeId: 'ch_a',
          paymentIntentId: 'pi_a',
          automaticPayoutId: 'po_A',
        }),
      ],
      [payout('po_A', 1161n), payout('po_B', 500n), payout('po_C', 700n)],
    );
    expect(result.counts).toEqual({ matched: 5, payout_mismatch: 1 });
    expect(result.breaks).toMatchObject({ total: 1, unhealed: 1 });

    const rows = breaksCsvRows(store.text(result.reportKeys!.files['breaks.csv']!));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      class: 'payout_mismatch',
      kind: 'payout',
      payout_id: 'po_B',
      provider_amount: '5.00',
      ledger_amount: '4.85',
      detail: 'payout 500 USD; its 1 linked balance transactions net 485 USD (difference 15)',
      break_state: 'open',
      age_days: '0',
    });
    const [registered] = (await listBreaks(db.sql, { class: 'payout_mismatch', limit: 10 })).breaks;
    expect(registered).toMatchObject({ objectKey: 'payout:po_B', payoutId: 'po_B', state: 'open' });
    expect(registered!.id.toString()).toBe(rows[0]!.break_id);

    const summary = JSON.parse(store.text(result.reportKeys!.files['summary.json']!));
    expect(summary.payouts).toEqual([
      {
        payoutId: 'po_A',
        currency: 'USD',
        amountMinor: '1161',
        linkedTransactions: 3,
        linkedNetMinor: '1161',
        differenceMinor: '0',
      },
      {
        payoutId: 'po_B',
        currency: 'USD',
        amountMinor: '500',
        linkedTransactions: 1,
        linkedNetMinor: '485',
        differenceMinor: '15',
      },
      {
        payoutId: 'po_C',
        currency: 'USD',
        amountMinor: '700',
        linkedTransactions: 0,
        linkedNetMinor: '0',
        differenceMinor: '700',
      },
    ]);

    expect(await payoutTransactions(db.sql, { provider: 'stripe', account: '', payoutId: 'po_A' })).toEqual([
      {
        balanceTransactionId: 'txn_a',
        businessDate: '2025-03-01',
        kind: 'payment',
        currency: 'USD',
        grossMinor: 1000n,
        feeMinor: 30n,
        netMinor: 970n,
      },
      {
        balanceTransactionId: 'txn_c',
        businessDate: '2025-03-02',
        kind: 'payment',
        currency: 'USD',
        grossMinor: 300n,
        feeMinor: 9n,
        netMinor: 291n,
      },
      {
        balanceTransactionId: 'txn_d',
        businessDate: '2025-03-02',
        kind: 'refund',
        currency: 'USD',
        grossMinor: -100n,
        feeMinor: 0n,
        netMinor: -100n,
      },
    ]);

    // Gross / fees / net of each day: payouts are not activity and stay out.
    const [d2] = await reconOverview(db.sql, { businessDate: '2025-03-02', provider: 'stripe' });
    expect(d2).toMatchObject({ account: '', matched: 5, breaksByClass: { payout_mismatch: 1 } });
    expect(d2!.money).toEqual([
      expect.objectContaining({
        currency: 'USD',
        paymentsMinor: 300n,
        refundsMinor: 100n,
        grossMinor: 200n,
        feesScaled: 9n,
        feeScale: 2,
        net: '1.91',
      }),
    ]);
    const [d1] = await reconOverview(db.sql, { businessDate: '2025-03-01', provider: 'stripe' });
    expect(d1!.money).toEqual([
      expect.objectContaining({ currency: 'USD', grossMinor: 1500n, fees: '0.45', net: '14.55' }),
    ]);
  });
});
