// merchant_orders for WeChat Pay: a succeeded payment whose amount or currency differs from the merchant's own
// order gets one payment_anomalies row per kind (however often it is notified), is still recorded as paid, and
// the consumer counts PaymentAnomaly. Matching orders, unknown orders and refunds produce none.

import { prng } from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  generateSandboxMerchants,
  type SandboxMerchants,
} from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { WechatpayHistory } from '@payhooks/testkit/sandbox/wechatpay-scenario';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsBatch, wechatpayConsumer, wechatpayEnvelope } from './helpers/wechatpay.ts';

let db: TestDatabase;
let sandbox: SandboxMerchants;
beforeAll(async () => {
  [db, sandbox] = await Promise.all([createTestDatabase(), generateSandboxMerchants()]);
});
afterAll(async () => db?.drop());

describe('WeChat Pay payments against merchant_orders', () => {
  it('records amount and currency mismatches once each, and nothing for matching or unknown orders', async () => {
    const merchant = sandbox.merchants[0]!;
    const h = new WechatpayHistory(prng(21));
    const t = 1_740_000_000;
    const amountOff = h.payment(merchant, 'MO-amount', t, {
      amountMinor: 15_000,
      resend: true,
      refundPath: 0,
    });
    const currencyOff = h.payment(merchant, 'MO-currency', t + 10, { amountMinor: 10_000, currency: 'USD' });
    const bothOff = h.payment(merchant, 'MO-both', t + 20, { amountMinor: 70, currency: 'HKD' });
    h.payment(merchant, 'MO-match', t + 30, { amountMinor: 2_500 });
    h.payment(merchant, 'MO-unknown', t + 40, { amountMinor: 1 });
    // A Stripe order names its account ('platform' explicit, migration 0010); a WeChat Pay payment never meets it.
    await db.sql`insert into merchant_orders (provider, account, merchant_order_no, amount_minor, currency) values
      ('wechatpay', '', 'MO-amount', 10000, 'CNY'), ('wechatpay', '', 'MO-currency', 10000, 'CNY'),
      ('wechatpay', '', 'MO-both', 7000, 'CNY'), ('wechatpay', '', 'MO-match', 2500, 'CNY'),
      ('stripe', 'platform', 'MO-unknown', 5, 'USD')`;

    const { consumer, metrics } = wechatpayConsumer(db.sql, sandbox);
    const bodies = h.notifications.map((n) => wechatpayEnvelope(n, merchant));
    // Everything twice: retries by notify id must not add anomaly rows or metrics.
    expect((await consumer(sqsBatch(bodies))).batchItemFailures).toEqual([]);
    expect((await consumer(sqsBatch(bodies))).batchItemFailures).toEqual([]);

    const rows = await db.sql`
      select provider_payment_id, merchant_order_no, kind, expected_amount_minor, expected_currency, actual_amount_minor, actual_currency
      from payment_anomalies order by merchant_order_no, kind`;
    expect(rows).toEqual([
      {
        provider_payment_id: amountOff,
        merchant_order_no: 'MO-amount',
        kind: 'amount_mismatch',
        expected_amount_minor: 10_000n,
        expected_currency: 'CNY',
        actual_amount_minor: 15_000n,
        actual_currency: 'CNY',
      },
      {
        provider_payment_id: bothOff,
        merchant_order_no: 'MO-both',
        kind: 'amount_mismatch',
        expected_amount_minor: 7_000n,
        expected_currency: 'CNY',
        actual_amount_minor: 70n,
        actual_currency: 'HKD',
      },
      {
        provider_payment_id: bothOff,
        merchant_order_no: 'MO-both',
        kind: 'currency_mismatch',
        expected_amount_minor: 7_000n,
        expected_currency: 'CNY',
        actual_amount_minor: 70n,
        actual_currency: 'HKD',
      },
      {
        provider_payment_id: currencyOff,
        merchant_order_no: 'MO-currency',
        kind: 'currency_mismatch',
        expected_amount_minor: 10_000n,
        expected_currency: 'CNY',
        actual_amount_minor: 10_000n,
        actual_currency: 'USD',
      },
    ]);
    // The payment (notified under two notify ids) is one row per kind and one metric per row.
    expect(metrics.counts.get('PaymentAnomaly{provider=wechatpay,kind=amount_mismatch}')).toBe(2);
    expect(metrics.counts.get('PaymentAnomaly{provider=wechatpay,kind=currency_mismatch}')).toBe(2);
    expect(metrics.total('EventDuplicate')).toBe(h.notifications.length);

    // An anomaly does not stop the payment from being recorded as paid.
    const paid = await db.sql<
      { status: string }[]
    >`select status from payments where provider_payment_id = ${amountOff}`;
    expect(paid).toEqual([{ status: 'succeeded' }]);
  });
});
