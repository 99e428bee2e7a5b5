// merchant_orders scoping on real PostgreSQL: an order checks payments of its own provider and account only. A
// Stripe platform order ('platform') is never checked against a Connect account's payment with the same order
// number, a Connect account's order never against the platform's; Stripe orders must name their account.
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  applyEnvelopeBatch,
  type BatchOutcome,
  MerchantOrderError,
  recordMerchantOrders,
  STRIPE_PLATFORM_ACCOUNT,
} from '../../src/ledger/index.ts';
import { envelopeOf, payment, type TestEvent, testNormalizer } from './helpers.ts';

type Migration = { up(sql: unknown): Promise<void>; down(sql: unknown): Promise<void> };
// Loaded by URL: migrations are plain .mjs files without type declarations.
const migration = (await import(
  new URL('../../migrations/0010-merchant-orders-platform.mjs', import.meta.url).href
)) as Migration;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());
beforeEach(async () => {
  await db.sql.unsafe('truncate inbox_events, payments, payment_anomalies, merchant_orders');
});

const batch = (events: TestEvent[]) =>
  db.sql.begin((tx) =>
    applyEnvelopeBatch(
      tx,
      events.map((event, i) => ({ id: `m${i}`, envelope: envelopeOf(event) })),
      () => testNormalizer,
    ),
  ) as Promise<Map<string, BatchOutcome>>;

const anomalies = () =>
  db.sql<{ provider_payment_id: string; kind: string; expected_amount_minor: bigint }[]>`
    select provider_payment_id, kind, expected_amount_minor from payment_anomalies order by provider_payment_id, kind`;

describe('merchant order checks are scoped by provider and account', () => {
  it('checks a platform payment against the platform order only, a Connect payment against its own only', async () => {
    await recordMerchantOrders(db.sql, 'stripe', [
      { merchantOrderNo: 'o1', amountMinor: 1000n, currency: 'usd', account: STRIPE_PLATFORM_ACCOUNT },
      { merchantOrderNo: 'o2', amountMinor: 700n, currency: 'usd', account: 'acct_1Seller' },
    ]);
    await batch([
      // A connected seller's own payment carrying the platform's order number: not the platform's order.
      {
        eventId: 'e1',
        changes: [
          payment('pi_seller', 'succeeded', 1, {
            account: 'acct_1Seller',
            amountMinor: 5n,
            merchantOrderNo: 'o1',
          }),
        ],
      },
      // Another seller's payment with seller 1's order number: not seller 1's order.
      {
        eventId: 'e2',
        changes: [
          payment('pi_other', 'succeeded', 1, {
            account: 'acct_1Other',
            amountMinor: 5n,
            merchantOrderNo: 'o2',
          }),
        ],
      },
      // The platform's payment with the seller's order number: not the seller's order.
      {
        eventId: 'e3',
        changes: [payment('pi_platform_o2', 'succeeded', 1, { amountMinor: 5n, merchantOrderNo: 'o2' })],
      },
      // The platform's own payment of its order, short by 1: checked.
      {
        eventId: 'e4',
        changes: [payment('pi_platform', 'succeeded', 1, { amountMinor: 999n, merchantOrderNo: 'o1' })],
      },
      // Seller 1's own payment of its order, short: checked.
      {
        eventId: 'e5',
        changes: [
          payment('pi_seller_o2', 'succeeded', 1, {
            account: 'acct_1Seller',
            amountMinor: 1n,
            merchantOrderNo: 'o2',
          }),
        ],
      },
    ]);
    expect(await anomalies()).toEqual([
      { provider_payment_id: 'pi_platform', kind: 'amount_mismatch', expected_amount_minor: 1000n },
      { provider_payment_id: 'pi_seller_o2', kind: 'amount_mismatch', expected_amount_minor: 700n },
    ]);
  });

  it('refuses a Stripe order that names no account, in code and in the table', async () => {
    await expect(
      recordMerchantOrders(db.sql, 'stripe', [{ merchantOrderNo: 'o1', amountMinor: 1n, currency: 'usd' }]),
    ).rejects.toBeInstanceOf(MerchantOrderError);
    await expect(
      db.sql`insert into merchant_orders (provider, merchant_order_no, amount_minor, currency) values ('stripe', 'o1', 1, 'usd')`,
    ).rejects.toMatchObject({ code: '23514' });
    // WeChat Pay keeps '' for the deployment's only merchant.
    expect(
      await recordMerchantOrders(db.sql, 'wechatpay', [
        { merchantOrderNo: 'w1', amountMinor: 1n, currency: 'CNY' },
      ]),
    ).toBe(1);
  });

  it('migrates existing account-less Stripe orders to the platform', async () => {
    await migration.down(db.sql);
    try {
      await db.sql`insert into merchant_orders (provider, merchant_order_no, amount_minor, currency) values
        ('stripe', 'legacy', 1000, 'usd'), ('wechatpay', 'legacy', 1000, 'CNY')`;
    } finally {
      await migration.up(db.sql);
    }
    const rows = await db.sql<{ provider: string; account: string }[]>`
      select provider, account from merchant_orders where merchant_order_no = 'legacy' order by provider`;
    expect(rows).toEqual([
      { provider: 'stripe', account: STRIPE_PLATFORM_ACCOUNT },
      { provider: 'wechatpay', account: '' },
    ]);
  });
});
