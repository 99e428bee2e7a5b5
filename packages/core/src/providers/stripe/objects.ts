// zod shapes of the Stripe objects the ledger reads. Only the fields we use are required; anything else
// passes through to the mirror untouched. A known object type that does not match its shape is a loud
// failure (the message goes back to the queue, then the DLQ), never a row of NULLs.
import * as z from 'zod';

const id = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[A-Za-z0-9_]+$`));
const minor = z.number().int().refine(Number.isSafeInteger, 'amount must be a safe integer');
const currency = z.string().regex(/^[a-zA-Z]{3}$/);
const unix = z.number().int().nonnegative();
const ref = (prefix: string) =>
  z
    .union([
      id(prefix),
      z
        .object({ id: id(prefix) })
        .loose()
        .transform((o) => o.id),
    ])
    .nullable()
    .optional();
const metadata = z.record(z.string(), z.string()).default({});

export const paymentIntentSchema = z.looseObject({
  id: id('pi'),
  object: z.literal('payment_intent'),
  amount: minor,
  amount_received: minor.optional(),
  currency,
  status: z.enum([
    'requires_payment_method',
    'requires_confirmation',
    'requires_action',
    'processing',
    'requires_capture',
    'canceled',
    'succeeded',
  ]),
  created: unix,
  metadata,
  last_payment_error: z.unknown().optional(),
});

export const chargeSchema = z.looseObject({
  id: id('(?:ch|py)'),
  object: z.literal('charge'),
  amount: minor,
  amount_captured: minor.optional(),
  amount_refunded: minor.optional(),
  captured: z.boolean().optional(),
  currency,
  status: z.enum(['succeeded', 'pending', 'failed']),
  payment_intent: ref('pi'),
  created: unix,
  metadata,
});

export const refundSchema = z.looseObject({
  id: id('(?:re|pyr)'),
  object: z.literal('refund'),
  amount: minor,
  currency,
  status: z.enum(['pending', 'requires_action', 'succeeded', 'failed', 'canceled']),
  charge: ref('(?:ch|py)'),
  payment_intent: ref('pi'),
  created: unix,
  metadata,
});

export const disputeSchema = z.looseObject({
  id: id('(?:dp|du)'),
  object: z.literal('dispute'),
  amount: minor,
  currency,
  status: z.enum([
    'warning_needs_response',
    'warning_under_review',
    'warning_closed',
    'needs_response',
    'under_review',
    'won',
    'lost',
    'prevented',
  ]),
  reason: z.string().nullable().optional(),
  charge: ref('(?:ch|py)'),
  payment_intent: ref('pi'),
  created: unix,
});

export const customerSchema = z.looseObject({
  id: id('cus'),
  object: z.literal('customer'),
  deleted: z.boolean().optional(),
});

export const invoiceSchema = z.looseObject({
  id: id('in'),
  object: z.literal('invoice'),
  status: z.enum(['draft', 'open', 'paid', 'uncollectible', 'void']).nullable(),
  currency,
  amount_due: minor,
  amount_paid: minor,
});

export const subscriptionSchema = z.looseObject({
  id: id('sub'),
  object: z.literal('subscription'),
  status: z.enum([
    'incomplete',
    'incomplete_expired',
    'trialing',
    'active',
    'past_due',
    'canceled',
    'unpaid',
    'paused',
  ]),
});

export const payoutSchema = z.looseObject({
  id: id('po'),
  object: z.literal('payout'),
  amount: minor,
  currency,
  status: z.enum(['paid', 'pending', 'in_transit', 'canceled', 'failed']),
  arrival_date: unix,
});

export const eventSchema = z.looseObject({
  id: id('evt'),
  object: z.literal('event'),
  type: z.string().min(1),
  created: unix,
  api_version: z.string().nullable().optional(),
  account: z.string().optional(),
  livemode: z.boolean().optional(),
  /** Set on events payhooks builds from a fetched object (reconciliation heal). */
  payhooks_synthetic: z.literal(true).optional(),
  data: z.looseObject({ object: z.looseObject({ object: z.string() }) }),
});
