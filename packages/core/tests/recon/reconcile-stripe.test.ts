// Stripe reconciliation on a real Postgres: balance_change_from_activity.itemized.3 and payouts.itemized.3 rows
// (written with the report writer, incl. zero-decimal JPY) against payments, refunds and the payout mirror.
import { Readable } from 'node:stream';
import {
  writeBalanceChangeReport,
  writePayoutReconciliationReport,
  writePayoutsReport,
} from '@payhooks/testkit/reports/report-writer';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/ports.ts';
import { syntheticEvent } from '../../src/providers/stripe/client.ts';
import { normalizeStripeEvent } from '../../src/providers/stripe/index.ts';
import type { StripeBalanceChangeRecord, StripePayoutRecord } from '../../src/recon/index.ts';
import { reconcile, type StripeReportApi, stripeHealer, stripeSource } from '../../src/recon/run/index.ts';
import { breaksCsvRows } from './reconcile-csv.ts';
import { insertPayment, insertRefund, MemoryStore, silentLogger } from './reconcile-helpers.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const DATE = '2025-03-01';
const clock: Clock = { now: () => new Date('2025-03-01T20:00:00Z') };

function balance(overrides: Partial<StripeBalanceChangeRecord>): StripeBalanceChangeRecord {
  return {
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
  };
}

function payout(overrides: Partial<StripePayoutRecord>): StripePayoutRecord {
  return {
    payoutId: 'po_1',
    effectiveAtUtc: new Date('2025-03-01T12:00:00Z'),
    currency: 'USD',
    grossMinor: 0n,
    feeMinor: 0n,
    netMinor: 0n,
    reportingCategory: 'payout',
    description: null,
    expectedArrivalDate: '2025-03-03',
    status: 'paid',
    reversedAtUtc: null,
    type: 'bank_account',
    payoutDescription: null,
    destinationId: null,
    balanceTransactionId: null,
    metadata: {},
    extra: {},
    ...overrides,
  };
}

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

function reportApi(
  files: Record<string, string>,
): StripeReportApi & { created: { type: string; params: unknown }[] } {
  const runs = new Map<string, string>();
  const api = {
    created: [] as { type: string; params: unknown }[],
    async reportTypeAvailability(reportType: string) {
      return {
        reportType,
        dataAvailableStart: new Date(0),
        dataAvailableEnd: new Date('2025-03-02T06:00:00Z'),
      };
    },
    async createReportRun(type: string, params: unknown) {
      api.created.push({ type, params });
      const id = `frr_${runs.size + 1}`;
      runs.set(id, type);
      return { id, status: 'pending', result: null };
    },
    async waitForReportRun(id: string) {
      return {
        id,
        status: 'succeeded',
        result: { id: `file_${id}`, url: `https://files.stripe.com/v1/files/file_${id}/contents` },
      };
    },
    async downloadFile(url: string) {
      const type = runs.get(url.replace(/^.*file_(frr_\d+).*$/, '$1'))!;
      return Readable.from([Buffer.from(files[type]!, 'utf8')]);
    },
  };
  return api;
}

describe('Stripe reconciliation', () => {
  it('matches report rows (USD and zero-decimal JPY) against payments, refunds and payouts, and heals a missing intent', async () => {
    await insertPayment(db.sql, {
      provider: 'stripe',
      account: '',
      id: 'pi_usd',
      amount: 1999n,
      currency: 'USD',
      succeededAt: '2025-03-01T09:00:00Z',
    });
    await insertPayment(db.sql, {
      provider: 'stripe',
      account: '',
      id: 'pi_jpy',
      amount: 5000n,
      currency: 'JPY',
      succeededAt: '2025-03-01T09:30:00Z',
    });
    await insertPayment(db.sql, {
      provider: 'stripe',
      account: '',
      id: 'pi_amount',
      amount: 1000n,
      currency: 'USD',
      succeededAt: '2025-03-01T11:00:00Z',
    });
    await insertRefund(db.sql, {
      provider: 'stripe',
      account: '',
      id: 're_1',
      paymentId: 'pi_usd',
      amount: 500n,
      refundNo: 'r1',
      currency: 'USD',
    });
    await db.sql`insert into stripe.payouts (id, account, status, data, first_seen_at, updated_at, last_event_id, version)
      values ('po_1', '', 'paid', ${db.sql.json({ id: 'po_1', object: 'payout', amount: 1911, currency: 'usd', status: 'paid' })},
              now(), now(), 'evt_seed', '0')`;

    const balanceCsv = await text(
      writeBalanceChangeReport(
        [
          balance({
            balanceTransactionId: 'txn_1',
            grossMinor: 1999n,
            feeMinor: 88n,
            netMinor: 1911n,
            paymentIntentId: 'pi_usd',
            chargeId: 'ch_1',
            sourceId: 'ch_1',
            automaticPayoutId: 'po_1',
            metadata: { order_id: 'A-1' },
          }),
          balance({
            balanceTransactionId: 'txn_2',
            currency: 'JPY',
            grossMinor: 5000n,
            feeMinor: 180n,
            netMinor: 4820n,
            paymentIntentId: 'pi_jpy',
            chargeId: 'ch_2',
            sourceId: 'ch_2',
            metadata: { order_id: 'A-2' },
          }),
          balance({
            balanceTransactionId: 'txn_3',
            grossMinor: 1500n,
            feeMinor: 0n,
            netMinor: 1500n,
            paymentIntentId: 'pi_amount',
            chargeId: 'ch_3',
            sourceId: 'ch_3',
          }),
          balance({
            balanceTransactionId: 'txn_4',
            reportingCategory: 'refund',
            grossMinor: -500n,
            netMinor: -500n,
            sourceId: 're_1',
            chargeId: 'ch_1',
            paymentIntentId: 'pi_usd',
          }),
          balance({
            balanceTransactionId: 'txn_5',
            grossMinor: 1200n,
            feeMinor: 65n,
            netMinor: 1135n,
            paymentIntentId: 'pi_missing',
            chargeId: 'ch_5',
            sourceId: 'ch_5',
          }),
          balance({
            balanceTransactionId: 'txn_6',
            reportingCategory: 'fee',
            grossMinor: -200n,
            netMinor: -200n,
          }),
        ],
        { metadataKeys: ['order_id'] },
      ),
    );
    const payoutsCsv = await text(
      writePayoutsReport([
        // po_1 settles txn_1 (net 19.11), the only balance transaction that names it.
        payout({ payoutId: 'po_1', grossMinor: 1911n, netMinor: 1911n }),
        payout({ payoutId: 'po_2', grossMinor: 100n, netMinor: 100n }),
      ]),
    );
    expect(balanceCsv).toContain(',5000,'); // JPY written without decimals
    const api = reportApi({
      'balance_change_from_activity.itemized.3': balanceCsv,
      'payouts.itemized.3': payoutsCsv,
      // No payout reconciliation rows: po_1 is linked by automatic_payout_id.
      'payout_reconciliation.itemized.5': await text(writePayoutReconciliationReport([])),
    });
    const retrieved: string[] = [];
    const healer = stripeHealer(
      {
        async retrieve(type, id) {
          retrieved.push(`${type}:${id}`);
          if (type !== 'payment_intent') throw new Error(`no ${type} ${id} in this test`);
          return {
            id,
            object: 'payment_intent',
            amount: 1200,
            amount_received: 1200,
            currency: 'usd',
            status: 'succeeded',
            created: 1740819600,
            metadata: {},
          };
        },
      },
      syntheticEvent,
      '',
      clock,
    );
    const store = new MemoryStore();
    const result = await reconcile(
      {
        sql: db.sql,
        store,
        clock,
        logger: silentLogger,
        healer,
        normalizer: (envelope) => normalizeStripeEvent(envelope.rawBody, { orderMetadataKey: 'order_id' }),
      },
      {
        source: stripeSource(api, {
          account: '',
          window: {
            businessDate: DATE,
            start: new Date('2025-03-01T00:00:00Z'),
            end: new Date('2025-03-02T00:00:00Z'),
          },
          orderMetadataKey: 'order_id',
        }),
        businessDate: DATE,
      },
    );

    expect(result.status).toBe('succeeded');
    expect(api.created.map((c) => c.type)).toEqual([
      'balance_change_from_activity.itemized.3',
      'payouts.itemized.3',
      'payout_reconciliation.itemized.5',
    ]);
    expect(api.created[0]!.params).toMatchObject({
      intervalStart: new Date('2025-03-01T00:00:00Z'),
      intervalEnd: new Date('2025-03-02T00:00:00Z'),
    });
    expect(retrieved.sort()).toEqual(['payment_intent:pi_missing', 'payout:po_2']);
    // pi_usd, pi_jpy, re_1, po_1 and the healed pi_missing match; pi_amount differs; po_2 is not mirrored.
    expect(result.counts).toEqual({ matched: 5, amount_mismatch: 1, missing_in_ledger: 1 });
    expect(result.breaks).toEqual({ total: 3, healed: 1, unhealed: 2, informational: 0 });

    const rows = breaksCsvRows(store.text(`${result.reportKeys!.files['breaks.csv']}`));
    const amount = rows.find((r) => r.provider_payment_id === 'pi_amount')!;
    expect([amount.class, amount.provider_amount, amount.ledger_amount]).toEqual([
      'amount_mismatch',
      '15.00',
      '10.00',
    ]);
    const po2 = rows.find((r) => r.payout_id === 'po_2')!;
    expect([po2.class, po2.healed]).toEqual(['missing_in_ledger', 'false']);
    expect(po2.heal_note).toContain('heal failed');
    expect(rows.find((r) => r.provider_payment_id === 'pi_missing')).toMatchObject({
      class: 'missing_in_ledger',
      healed: 'true',
    });

    const matched = breaksCsvRows(store.text(`${result.reportKeys!.files['matched.csv']}`));
    expect(matched.find((r) => r.provider_payment_id === 'pi_jpy')).toMatchObject({
      currency: 'JPY',
      amount: '5000',
      provider_fee: '180',
    });
    expect(matched.find((r) => r.provider_payment_id === 'pi_usd' && r.kind === 'payment')).toMatchObject({
      payout_id: 'po_1',
      merchant_order_no: 'A-1',
      provider_fee: '0.88',
    });

    const summary = JSON.parse(store.text(`${result.reportKeys!.files['summary.json']}`));
    expect(summary.totals.fees).toEqual({ USD: '1.53', JPY: '180' });
    expect(summary.totals.provider.JPY.payment).toMatchObject({ count: 1, amount: '5000' });
    expect(summary.sourceFiles.map((f: { name: string; rows: number }) => [f.name, f.rows])).toEqual([
      ['balance_change', 6],
      ['payouts', 2],
      ['payout_reconciliation', 0],
    ]);
    expect(result.reportKeys!.pointerKey).toBe(`stripe/platform/${DATE}/latest.json`);
  });
});
