// The consumer's fast path through the Stripe shapes of objects.ts: hand-written checks of only the fields the
// ledger reads, returning just those fields (no copy of the whole object, key by key, as a zod looseObject parse
// makes). Each check is at least as strict as its zod schema; whatever a check does not accept goes to the zod
// schema, which then decides (and names the fields in its error). So the zod schemas stay the contract and these
// checks only decide sooner for objects that plainly fit; tests/stripe/shapes.property.test.ts proves that
// everything a check accepts, its schema accepts with the same values.
import type * as z from 'zod';
import type {
  chargeSchema,
  disputeSchema,
  eventSchema,
  invoiceSchema,
  paymentIntentSchema,
  payoutSchema,
  refundSchema,
  subscriptionSchema,
} from './objects.ts';

type Shape<S extends z.ZodType, K extends keyof z.infer<S>> = Pick<z.infer<S>, K>;

export type EventFields = Shape<
  typeof eventSchema,
  'id' | 'type' | 'created' | 'api_version' | 'account' | 'livemode' | 'payhooks_synthetic'
> & { data: { object: Record<string, unknown> & { object: string } } };
export type PaymentIntentFields = Shape<
  typeof paymentIntentSchema,
  'id' | 'amount' | 'amount_received' | 'currency' | 'status' | 'created' | 'metadata' | 'last_payment_error'
>;
export type ChargeFields = Shape<
  typeof chargeSchema,
  'id' | 'amount' | 'captured' | 'currency' | 'status' | 'payment_intent' | 'created' | 'metadata'
>;
export type RefundFields = Shape<
  typeof refundSchema,
  'id' | 'amount' | 'currency' | 'status' | 'charge' | 'payment_intent' | 'created' | 'metadata'
>;
export type DisputeFields = Shape<
  typeof disputeSchema,
  'id' | 'amount' | 'currency' | 'status' | 'reason' | 'charge' | 'payment_intent' | 'created'
>;
export type CustomerFields = { id: string; deleted?: boolean | undefined };
export type InvoiceFields = Shape<typeof invoiceSchema, 'id' | 'status'>;
export type SubscriptionFields = Shape<typeof subscriptionSchema, 'id' | 'status'>;
export type PayoutFields = Shape<typeof payoutSchema, 'id' | 'status'>;

type Loose = Record<string, unknown>;

const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const idPattern = (prefix: string) => new RegExp(`^${prefix}_[A-Za-z0-9_]+$`);
const CURRENCY = /^[a-zA-Z]{3}$/;
const isMinor = (v: unknown): v is number => Number.isSafeInteger(v);
const isUnix = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isCurrency = (v: unknown): v is string => typeof v === 'string' && CURRENCY.test(v);
const optionalMinor = (v: unknown) => v === undefined || isMinor(v);
const isIn =
  <T extends string>(values: readonly T[]) =>
  (v: unknown): v is T =>
    typeof v === 'string' && (values as readonly string[]).includes(v);

/** `ref()` of objects.ts: an id, an expanded object with that id, null or absent. Invalid: NOT_A_REF. */
const NOT_A_REF = Symbol('not a ref');
function ref(v: unknown, pattern: RegExp): string | null | undefined | typeof NOT_A_REF {
  if (v === undefined || v === null) return v;
  if (typeof v === 'string') return pattern.test(v) ? v : NOT_A_REF;
  if (isObject(v) && typeof v.id === 'string' && pattern.test(v.id)) return v.id;
  return NOT_A_REF;
}

/** `metadata` of objects.ts: string values only; absent is {}. Undefined: not plainly valid. */
function metadata(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return {};
  if (!isObject(v)) return undefined;
  for (const key in v) if (typeof v[key] !== 'string') return undefined;
  return v as Record<string, string>;
}

const EVENT_ID = idPattern('evt');
const PI_ID = idPattern('pi');
const CHARGE_ID = idPattern('(?:ch|py)');
const REFUND_ID = idPattern('(?:re|pyr)');
const DISPUTE_ID = idPattern('(?:dp|du)');
const CUSTOMER_ID = idPattern('cus');
const INVOICE_ID = idPattern('in');
const SUBSCRIPTION_ID = idPattern('sub');
const PAYOUT_ID = idPattern('po');

const PI_STATUSES = isIn([
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'requires_capture',
  'canceled',
  'succeeded',
] as const);
const CHARGE_STATUSES = isIn(['succeeded', 'pending', 'failed'] as const);
const REFUND_STATUSES = isIn(['pending', 'requires_action', 'succeeded', 'failed', 'canceled'] as const);
const DISPUTE_STATUSES = isIn([
  'warning_needs_response',
  'warning_under_review',
  'warning_closed',
  'needs_response',
  'under_review',
  'won',
  'lost',
  'prevented',
] as const);
const INVOICE_STATUSES = isIn(['draft', 'open', 'paid', 'uncollectible', 'void'] as const);
const SUBSCRIPTION_STATUSES = isIn([
  'incomplete',
  'incomplete_expired',
  'trialing',
  'active',
  'past_due',
  'canceled',
  'unpaid',
  'paused',
] as const);
const PAYOUT_STATUSES = isIn(['paid', 'pending', 'in_transit', 'canceled', 'failed'] as const);

export function fastEvent(v: unknown): EventFields | undefined {
  if (!isObject(v)) return undefined;
  const { id, type, created, api_version, account, livemode, payhooks_synthetic, data } = v;
  if (typeof id !== 'string' || !EVENT_ID.test(id) || v.object !== 'event') return undefined;
  if (typeof type !== 'string' || type.length === 0 || !isUnix(created)) return undefined;
  if (api_version !== undefined && api_version !== null && typeof api_version !== 'string') return undefined;
  if (account !== undefined && typeof account !== 'string') return undefined;
  if (livemode !== undefined && typeof livemode !== 'boolean') return undefined;
  if (payhooks_synthetic !== undefined && payhooks_synthetic !== true) return undefined;
  if (!isObject(data) || !isObject(data.object) || typeof data.object.object !== 'string') return undefined;
  return {
    id,
    type,
    created,
    api_version,
    account,
    livemode,
    payhooks_synthetic,
    data: { object: data.object as EventFields['data']['object'] },
  };
}

export function fastPaymentIntent(v: Loose): PaymentIntentFields | undefined {
  const { id, amount, amount_received, currency, status, created, last_payment_error } = v;
  if (typeof id !== 'string' || !PI_ID.test(id) || v.object !== 'payment_intent') return undefined;
  if (!isMinor(amount) || !optionalMinor(amount_received) || !isCurrency(currency)) return undefined;
  if (!PI_STATUSES(status) || !isUnix(created)) return undefined;
  const meta = metadata(v.metadata);
  if (!meta) return undefined;
  return {
    id,
    amount,
    amount_received: amount_received as number | undefined,
    currency,
    status,
    created,
    metadata: meta,
    last_payment_error,
  };
}

export function fastCharge(v: Loose): ChargeFields | undefined {
  const { id, amount, amount_captured, amount_refunded, captured, currency, status, created } = v;
  if (typeof id !== 'string' || !CHARGE_ID.test(id) || v.object !== 'charge') return undefined;
  if (!isMinor(amount) || !optionalMinor(amount_captured) || !optionalMinor(amount_refunded))
    return undefined;
  if (captured !== undefined && typeof captured !== 'boolean') return undefined;
  if (!isCurrency(currency) || !CHARGE_STATUSES(status) || !isUnix(created)) return undefined;
  const paymentIntent = ref(v.payment_intent, PI_ID);
  const meta = metadata(v.metadata);
  if (paymentIntent === NOT_A_REF || !meta) return undefined;
  return {
    id,
    amount,
    captured,
    currency,
    status,
    payment_intent: paymentIntent,
    created,
    metadata: meta,
  };
}

export function fastRefund(v: Loose): RefundFields | undefined {
  const { id, amount, currency, status, created } = v;
  if (typeof id !== 'string' || !REFUND_ID.test(id) || v.object !== 'refund') return undefined;
  if (!isMinor(amount) || !isCurrency(currency) || !REFUND_STATUSES(status) || !isUnix(created))
    return undefined;
  const charge = ref(v.charge, CHARGE_ID);
  const paymentIntent = ref(v.payment_intent, PI_ID);
  const meta = metadata(v.metadata);
  if (charge === NOT_A_REF || paymentIntent === NOT_A_REF || !meta) return undefined;
  return { id, amount, currency, status, charge, payment_intent: paymentIntent, created, metadata: meta };
}

export function fastDispute(v: Loose): DisputeFields | undefined {
  const { id, amount, currency, status, created, reason } = v;
  if (typeof id !== 'string' || !DISPUTE_ID.test(id) || v.object !== 'dispute') return undefined;
  if (!isMinor(amount) || !isCurrency(currency) || !DISPUTE_STATUSES(status) || !isUnix(created))
    return undefined;
  if (reason !== undefined && reason !== null && typeof reason !== 'string') return undefined;
  const charge = ref(v.charge, CHARGE_ID);
  const paymentIntent = ref(v.payment_intent, PI_ID);
  if (charge === NOT_A_REF || paymentIntent === NOT_A_REF) return undefined;
  return { id, amount, currency, status, reason, charge, payment_intent: paymentIntent, created };
}

export function fastCustomer(v: Loose): CustomerFields | undefined {
  const { id, deleted } = v;
  if (typeof id !== 'string' || !CUSTOMER_ID.test(id) || v.object !== 'customer') return undefined;
  if (deleted !== undefined && typeof deleted !== 'boolean') return undefined;
  return { id, deleted };
}

export function fastInvoice(v: Loose): InvoiceFields | undefined {
  const { id, status, currency, amount_due, amount_paid } = v;
  if (typeof id !== 'string' || !INVOICE_ID.test(id) || v.object !== 'invoice') return undefined;
  if (status !== null && !INVOICE_STATUSES(status)) return undefined;
  if (!isCurrency(currency) || !isMinor(amount_due) || !isMinor(amount_paid)) return undefined;
  return { id, status };
}

export function fastSubscription(v: Loose): SubscriptionFields | undefined {
  const { id, status } = v;
  if (typeof id !== 'string' || !SUBSCRIPTION_ID.test(id) || v.object !== 'subscription') return undefined;
  if (!SUBSCRIPTION_STATUSES(status)) return undefined;
  return { id, status };
}

export function fastPayout(v: Loose): PayoutFields | undefined {
  const { id, amount, currency, status, arrival_date } = v;
  if (typeof id !== 'string' || !PAYOUT_ID.test(id) || v.object !== 'payout') return undefined;
  if (!isMinor(amount) || !isCurrency(currency) || !PAYOUT_STATUSES(status) || !isUnix(arrival_date))
    return undefined;
  return { id, status };
}
