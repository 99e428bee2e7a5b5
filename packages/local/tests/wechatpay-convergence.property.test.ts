// Design rule 3 for WeChat Pay: any permutation with duplicates (by notify id, and the same payment under two
// notify ids) of payment + refund histories yields the same ledger as in-order delivery. REFUND.ABNORMAL is not
// terminal (ABNORMAL → SUCCESS ends SUCCESS in any order); SUCCESS and CLOSED are. Real consumer, real Postgres.

import { prng, shuffle } from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  generateSandboxMerchants,
  type SandboxMerchants,
} from '@payhooks/testkit/sandbox/wechatpay-merchants';
import {
  type PaymentPlan,
  REFUND_PATHS,
  WechatpayHistory,
  type WechatpayNotificationSpec,
} from '@payhooks/testkit/sandbox/wechatpay-scenario';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsBatch, wechatpayConsumer, wechatpayEnvelope } from './helpers/wechatpay.ts';

let db: TestDatabase;
let sandbox: SandboxMerchants;
beforeAll(async () => {
  [db, sandbox] = await Promise.all([createTestDatabase(), generateSandboxMerchants()]);
});
afterAll(async () => db?.drop());

async function deliver(notifications: readonly WechatpayNotificationSpec[]): Promise<void> {
  const { consumer } = wechatpayConsumer(db.sql, sandbox);
  const byId = new Map(sandbox.merchants.map((m) => [m.id, m]));
  const bodies = notifications.map((n) => wechatpayEnvelope(n, byId.get(n.merchantId)!));
  for (let i = 0; i < bodies.length; i += 10) {
    const result = await consumer(sqsBatch(bodies.slice(i, i + 10)));
    expect(result.batchItemFailures).toEqual([]);
  }
}

async function snapshot(): Promise<unknown> {
  const [payments, refunds, inbox] = await Promise.all([
    db.sql`select provider_payment_id, account, merchant_order_no, amount_minor, currency, status, first_seen_at, succeeded_at,
             updated_at, last_event_id from payments order by 1`,
    db.sql`select provider_refund_id, provider_payment_id, merchant_refund_no, amount_minor, currency, status, first_seen_at,
             succeeded_at, updated_at, last_event_id from refunds order by 1`,
    db.sql`select event_id, outcome, account from inbox_events order by 1`,
  ]);
  const mirror = await db.sql`
    select 'transaction' as t, id, status, data, updated_at, last_event_id from wechatpay.transactions
    union all select 'refund', id, status, data, updated_at, last_event_id from wechatpay.refunds
    union all select 'share', id, status, data, updated_at, last_event_id from wechatpay.profit_sharing
    order by 1, 2`;
  return { payments, refunds, inbox, mirror };
}

const reset = () =>
  db.sql`truncate inbox_events, payments, refunds, payment_anomalies,
    wechatpay.transactions, wechatpay.refunds, wechatpay.profit_sharing`;

function history(plans: PaymentPlan[], seed: number): WechatpayHistory {
  const h = new WechatpayHistory(prng(seed));
  plans.forEach((plan, i) => {
    h.payment(
      sandbox.merchants[i % sandbox.merchants.length]!,
      `CONV-${seed}-${i}`,
      1_740_000_000 + i * 3,
      plan,
    );
  });
  return h;
}

const planArb: fc.Arbitrary<PaymentPlan> = fc.record({
  amountMinor: fc.integer({ min: 1, max: 10_000_000 }),
  resend: fc.boolean(),
  refundPath: fc.option(fc.nat(REFUND_PATHS.length - 1), { nil: undefined }),
  gaps: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 4 }),
});

/** Combined payments, service-provider payments with refunds, and profit sharing with returns. */
interface CoveragePlan {
  combined: number[];
  resendCombined: boolean;
  sp: PaymentPlan;
  shares: { amountMinor: number; returned: boolean; asTransaction: boolean }[];
}

const coverageArb: fc.Arbitrary<CoveragePlan> = fc.record({
  combined: fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 4 }),
  resendCombined: fc.boolean(),
  sp: planArb.map((plan) => ({ ...plan, subMchid: '1900000109' })),
  shares: fc.array(
    fc.record({
      amountMinor: fc.integer({ min: 1, max: 500 }),
      returned: fc.boolean(),
      asTransaction: fc.boolean(),
    }),
    { maxLength: 3 },
  ),
});

function coverageHistory(plan: CoveragePlan, seed: number): WechatpayHistory {
  const h = new WechatpayHistory(prng(seed));
  const [first, second] = [sandbox.merchants[0]!, sandbox.merchants[sandbox.merchants.length - 1]!];
  h.combinedPayment(first, `COMB-${seed}`, 1_740_000_000, plan.combined, plan.resendCombined);
  const sp = h.payment(second, `SP-${seed}`, 1_740_000_010, plan.sp);
  plan.shares.forEach((share, i) => {
    const orderId = `3008${seed}${i}`.replace('-', '9');
    h.profitSharing(second, sp, 1_740_000_100 + i, {
      as: share.asTransaction ? 'transaction' : 'success',
      amountMinor: share.amountMinor,
      orderId,
    });
    if (share.returned)
      h.profitSharing(second, sp, 1_740_000_200 + i, {
        as: 'return',
        amountMinor: share.amountMinor,
        orderId: `${orderId}R`,
      });
  });
  return h;
}

describe('WeChat Pay projection convergence', () => {
  it('reaches the in-order state for combined, service-provider and profit-sharing histories in any order', async () => {
    await fc.assert(
      fc.asyncProperty(
        coverageArb,
        fc.integer(),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (plan, seed, picks) => {
          const h = coverageHistory(plan, seed);
          await reset();
          await deliver(h.notifications);
          const expected = await snapshot();
          const payments = await db.sql<{ id: string; status: string; amount: string }[]>`
          select provider_payment_id as id, status, amount_minor::text as amount from payments`;
          expect(new Map(payments.map((p) => [p.id, [p.status, p.amount]]))).toEqual(
            new Map([...h.expected.payments].map(([id, p]) => [id, [p.status, String(p.amountMinor)]])),
          );
          const shares = await db.sql<
            { id: string; status: string }[]
          >`select id, status from wechatpay.profit_sharing`;
          expect(new Map(shares.map((s) => [s.id, s.status]))).toEqual(
            new Map([...h.expected.profitSharing].map(([id, s]) => [id, s.status])),
          );
          const delivered = shuffle(
            [...h.notifications, ...picks.map((pick) => h.notifications[pick % h.notifications.length]!)],
            prng(seed ^ 0x27d4eb2d),
          );
          await reset();
          await deliver(delivered);
          expect(await snapshot()).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('reaches the in-order state for any permutation with duplicates', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(planArb, { minLength: 1, maxLength: 4 }),
        fc.integer(),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (plans, seed, duplicatePicks) => {
          const h = history(plans, seed);
          const inOrder = h.notifications;
          await reset();
          await deliver(inOrder);
          const expected = await snapshot();
          const statuses = await db.sql<{ id: string; status: string }[]>`
            select provider_payment_id as id, status from payments union all select provider_refund_id, status from refunds`;
          expect(new Map(statuses.map((r) => [r.id, r.status]))).toEqual(
            new Map([
              ...[...h.expected.payments].map(([id, p]): [string, string] => [id, p.status]),
              ...[...h.expected.refunds].map(([id, r]): [string, string] => [id, r.status]),
            ]),
          );

          const random = prng(seed ^ 0x5bd1e995);
          const delivered = shuffle(
            [...inOrder, ...duplicatePicks.map((pick) => inOrder[pick % inOrder.length]!)],
            random,
          );
          await reset();
          await deliver(delivered);
          expect(await snapshot()).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('ends each refund at its last notified status when delivered in reverse (ABNORMAL is not terminal)', async () => {
    const plans = REFUND_PATHS.map((_, refundPath) => ({ amountMinor: 500, refundPath, gaps: [5] }));
    const h = history(plans, 99);
    await reset();
    await deliver([...h.notifications].reverse());
    const rows = await db.sql<
      { provider_refund_id: string; status: string }[]
    >`select provider_refund_id, status from refunds`;
    const final = new Map(rows.map((r) => [r.provider_refund_id, r.status]));
    expect(final).toEqual(new Map([...h.expected.refunds].map(([id, r]) => [id, r.status])));
    expect([...final.values()].sort()).toEqual([
      'abnormal',
      'canceled',
      'canceled',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
  });

  it('never regresses SUCCESS or CLOSED, even for an ABNORMAL notified later', async () => {
    const h = history(
      [
        { amountMinor: 800, refundPath: 0 },
        { amountMinor: 900, refundPath: 1 },
      ],
      5,
    );
    const late = h.notifications
      .filter((n) => n.originalType === 'refund')
      .map((n, i) => ({
        ...n,
        id: `late-abnormal-${i}`,
        eventType: 'REFUND.ABNORMAL',
        createTime: '2030-01-01T00:00:00+08:00',
        resource: { ...n.resource, refund_status: 'ABNORMAL', success_time: undefined },
      }));
    await reset();
    await deliver([...h.notifications, ...late]);
    const rows = await db.sql<{ status: string }[]>`select status from refunds order by status`;
    expect(rows.map((r) => r.status)).toEqual(['canceled', 'succeeded']);
  });
});
