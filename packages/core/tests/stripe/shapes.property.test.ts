// The fast shape checks (providers/stripe/shapes.ts) decide only for what their zod schemas (objects.ts) accept:
// for any object — each field valid, odd or missing — a check that accepts it returns exactly the values the
// schema returns, so the schemas stay the contract (everything else goes to them and fails with their error).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import {
  chargeSchema,
  customerSchema,
  disputeSchema,
  eventSchema,
  invoiceSchema,
  paymentIntentSchema,
  payoutSchema,
  refundSchema,
  subscriptionSchema,
} from '../../src/providers/stripe/objects.ts';
import {
  fastCharge,
  fastCustomer,
  fastDispute,
  fastEvent,
  fastInvoice,
  fastPaymentIntent,
  fastPayout,
  fastRefund,
  fastSubscription,
} from '../../src/providers/stripe/shapes.ts';

/** Values that are wrong for some field or other: types, ranges, near-miss ids, unsafe numbers. */
const odd = fc.constantFrom<unknown>(
  undefined,
  null,
  '',
  'x',
  'USD1',
  'us',
  'pi_',
  'pi_ok',
  'ch_1',
  'py_1',
  'evt_1',
  'pi_1 ',
  0,
  -1,
  1.5,
  2 ** 53,
  Number.NaN,
  true,
  false,
  [],
  {},
  { id: 'pi_1' },
  { id: 'ch_1' },
  { id: 3 },
  { a: 'b' },
  { a: 1 },
  'succeeded',
  'paid',
  'active',
);
const field = (...valid: unknown[]) => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...valid) }, odd);

const metadata = field(undefined, {}, { order_id: 'A-1' }, { order_id: 'A-1', refund_id: 'R-1' });
const minor = field(0, 1999, -5, 2 ** 52);
const currency = field('usd', 'JPY', 'eur');
const unix = field(0, 1_763_900_000);

const shapes: [string, fc.Arbitrary<Record<string, unknown>>, z.ZodType, (v: never) => unknown][] = [
  [
    'payment_intent',
    fc.record({
      id: field('pi_1', 'pi_A_b9'),
      object: field('payment_intent'),
      amount: minor,
      amount_received: field(undefined, 0, 1500),
      currency,
      status: field('requires_payment_method', 'succeeded', 'canceled', 'requires_capture'),
      created: unix,
      metadata,
      last_payment_error: field(undefined, null, { code: 'card_declined' }),
      extra: field(undefined, 'kept'),
    }),
    paymentIntentSchema,
    fastPaymentIntent,
  ],
  [
    'charge',
    fc.record({
      id: field('ch_1', 'py_2'),
      object: field('charge'),
      amount: minor,
      amount_captured: field(undefined, 100),
      amount_refunded: field(undefined, 0),
      captured: field(undefined, true, false),
      currency,
      status: field('succeeded', 'pending', 'failed'),
      payment_intent: field(undefined, null, 'pi_1', { id: 'pi_1', object: 'payment_intent' }),
      created: unix,
      metadata,
    }),
    chargeSchema,
    fastCharge,
  ],
  [
    'refund',
    fc.record({
      id: field('re_1', 'pyr_1'),
      object: field('refund'),
      amount: minor,
      currency,
      status: field('pending', 'succeeded', 'failed', 'canceled', 'requires_action'),
      charge: field(undefined, null, 'ch_1', 'py_1', { id: 'ch_1' }),
      payment_intent: field(undefined, null, 'pi_1', { id: 'pi_1' }),
      created: unix,
      metadata,
    }),
    refundSchema,
    fastRefund,
  ],
  [
    'dispute',
    fc.record({
      id: field('dp_1', 'du_1'),
      object: field('dispute'),
      amount: minor,
      currency,
      status: field('needs_response', 'won', 'lost', 'warning_closed'),
      reason: field(undefined, null, 'fraudulent'),
      charge: field(undefined, null, 'ch_1', { id: 'py_1' }),
      payment_intent: field(undefined, null, 'pi_1'),
      created: unix,
    }),
    disputeSchema,
    fastDispute,
  ],
  [
    'customer',
    fc.record({ id: field('cus_1'), object: field('customer'), deleted: field(undefined, true, false) }),
    customerSchema,
    fastCustomer,
  ],
  [
    'invoice',
    fc.record({
      id: field('in_1'),
      object: field('invoice'),
      status: field(null, 'draft', 'paid', 'void'),
      currency,
      amount_due: minor,
      amount_paid: minor,
    }),
    invoiceSchema,
    fastInvoice,
  ],
  [
    'subscription',
    fc.record({
      id: field('sub_1'),
      object: field('subscription'),
      status: field('active', 'past_due', 'canceled'),
    }),
    subscriptionSchema,
    fastSubscription,
  ],
  [
    'payout',
    fc.record({
      id: field('po_1'),
      object: field('payout'),
      amount: minor,
      currency,
      status: field('paid', 'in_transit', 'failed'),
      arrival_date: unix,
    }),
    payoutSchema,
    fastPayout,
  ],
  [
    'event',
    fc.record({
      id: field('evt_1', 'evt_1N2b'),
      object: field('event'),
      type: field('payment_intent.succeeded', 'x'),
      created: unix,
      api_version: field(undefined, null, '2026-10-28.endive'),
      account: field(undefined, 'acct_1', ''),
      livemode: field(undefined, true, false),
      payhooks_synthetic: field(undefined, true),
      data: field({ object: { object: 'charge', id: 'ch_1' } }, { object: { object: 'x' } }, { object: {} }),
    }),
    eventSchema,
    fastEvent,
  ],
];

/** JSON round trip: what the consumer parses never holds undefined values or NaN. */
const asJson = (value: Record<string, unknown>) =>
  JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

describe('Stripe fast shape checks', () => {
  for (const [name, arbitrary, schema, fast] of shapes) {
    it(`${name}: accepts only what the schema accepts, with the schema's values`, () => {
      let accepted = 0;
      fc.assert(
        fc.property(arbitrary, (raw) => {
          const value = asJson(raw);
          const quick = fast(value as never) as Record<string, unknown> | undefined;
          if (quick === undefined) return;
          accepted++;
          const parsed = schema.safeParse(value);
          expect(parsed.success).toBe(true);
          const data = parsed.data as Record<string, unknown>;
          for (const key of Object.keys(quick)) expect(quick[key], key).toEqual(data[key]);
        }),
        { numRuns: 3000 },
      );
      // Not vacuous: valid objects do take the fast path.
      expect(accepted).toBeGreaterThan(10);
    });
  }
});
