// Turns a verified Stripe event into ledger changes. Routing is on the content (`data.object.object`), not on
// the event type string, so `charge.refund.updated` and `refund.updated` land in the same place and new event
// types about known objects are applied. Events about objects we do not mirror are stored only.
import type * as z from 'zod';
import { NormalizeError } from '../../errors.ts';
import type {
  LedgerChange,
  NormalizedEvent,
  ObjectSnapshotChange,
  PaymentChange,
  PaymentStatus,
  RefundChange,
} from '../../ledger/changes.ts';
import { normalizeCurrency } from '../../money.ts';
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
} from './objects.ts';
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
} from './shapes.ts';

export interface StripeNormalizeOptions {
  /** Metadata key carrying the merchant's order number (STRIPE_ORDER_METADATA_KEY). */
  orderMetadataKey: string;
  /**
   * The mode this deployment books (STRIPE_LIVEMODE). Connect endpoints receive test-mode events too, signed with
   * the same secret: an event of the other mode is stored in the inbox but changes nothing.
   */
  expectedLivemode?: boolean;
  /**
   * The account for an event that names no connected account: the envelope's (ingress sets the configured Stripe
   * account the event arrived on; '' for the default account).
   */
  account?: string;
}

/**
 * The fields the ledger reads: the hand check of shapes.ts when it accepts the value (the common case, nothing
 * copied), else the zod schema, which accepts it after all or throws naming the fields.
 */
function parse<T extends z.ZodType, F>(
  fast: (value: Record<string, unknown>) => F | undefined,
  schema: T & z.ZodType<F>,
  value: Record<string, unknown>,
  eventId: string,
  what: string,
): F {
  return fast(value) ?? parseWithSchema(schema, value, eventId, what);
}

function parseWithSchema<T extends z.ZodType>(
  schema: T,
  value: unknown,
  eventId: string,
  what: string,
): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
  throw new NormalizeError(
    'STRIPE_UNEXPECTED_SHAPE',
    `event ${eventId}: ${what} does not have the expected shape (fields: ${fields}); check the endpoint's pinned API version`,
  );
}

const PI_STATUS: Record<z.infer<typeof paymentIntentSchema>['status'], PaymentStatus> = {
  requires_payment_method: 'pending',
  requires_confirmation: 'pending',
  requires_action: 'requires_action',
  processing: 'processing',
  requires_capture: 'authorized',
  canceled: 'canceled',
  succeeded: 'succeeded',
};

function mirrorChange(
  account: string,
  asOf: Date,
  snapshot: Record<string, unknown>,
  objectType: string,
  objectId: string,
  status: string | null,
  deleted: boolean,
  orderKey: string | undefined,
): ObjectSnapshotChange {
  const change: ObjectSnapshotChange = {
    kind: 'object',
    provider: 'stripe',
    account,
    objectType,
    objectId,
    status,
    deleted,
    snapshot,
    asOf,
  };
  if (orderKey) change.orderKey = orderKey;
  return change;
}

export function normalizeStripeEvent(rawBody: string, options: StripeNormalizeOptions): NormalizedEvent {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch (cause) {
    throw new NormalizeError('STRIPE_NOT_JSON', 'event body is not JSON', { cause });
  }
  const event = fastEvent(json) ?? parseWithSchema(eventSchema, json, '(unknown)', 'event envelope');
  const account = event.account || options.account || '';
  const asOf = new Date(event.created * 1000);
  const otherMode =
    options.expectedLivemode !== undefined &&
    event.livemode !== undefined &&
    event.livemode !== options.expectedLivemode;
  if (otherMode) {
    return {
      provider: 'stripe',
      eventId: event.id,
      eventType: event.type,
      account,
      occurredAt: asOf,
      apiVersion: event.api_version ?? null,
      changes: [],
    };
  }
  // A healed snapshot is fetched after the fact: its success time is the object's own, not the event's.
  const synthetic = Boolean(event.payhooks_synthetic);
  const object = event.data.object;
  const changes: LedgerChange[] = [];
  // The changes are written out field by field (no `{ ...base, … }` spreads, no closures per event): the same
  // objects, built without V8's slow path for spreads (the profile's hottest line of the consumer, see
  // docs/benchmarks.md "Case 3 after session 7, part consumeralloc").
  const mirror = (
    objectType: string,
    objectId: string,
    status: string | null,
    deleted = false,
    orderKey?: string,
  ) => changes.push(mirrorChange(account, asOf, object, objectType, objectId, status, deleted, orderKey));

  switch (object.object) {
    case 'payment_intent': {
      const pi = parse(fastPaymentIntent, paymentIntentSchema, object, event.id, 'payment_intent');
      // After a failed attempt Stripe returns the intent to requires_payment_method with the error attached.
      const failed = pi.status === 'requires_payment_method' && pi.last_payment_error != null;
      mirror(
        'payment_intent',
        pi.id,
        pi.status,
        false,
        failed ? 'requires_payment_method:failed' : undefined,
      );
      const payment: PaymentChange = {
        kind: 'payment',
        provider: 'stripe',
        account,
        providerPaymentId: pi.id,
        merchantOrderNo: pi.metadata[options.orderMetadataKey] ?? null,
        // What was actually captured once it succeeded (a partial capture is less than `amount`).
        amountMinor: BigInt(
          pi.status === 'succeeded' && pi.amount_received !== undefined ? pi.amount_received : pi.amount,
        ),
        currency: normalizeCurrency(pi.currency),
        status: failed ? 'failed' : PI_STATUS[pi.status],
        asOf,
      };
      if (synthetic) payment.succeededAt = new Date(pi.created * 1000);
      changes.push(payment);
      break;
    }
    case 'charge': {
      const charge = parse(fastCharge, chargeSchema, object, event.id, 'charge');
      mirror('charge', charge.id, charge.status);
      // Charges made through a PaymentIntent are tracked by the intent; only bare charges are payments.
      if (!charge.payment_intent) {
        const status: PaymentStatus =
          charge.status === 'succeeded'
            ? charge.captured === false
              ? 'authorized'
              : 'succeeded'
            : charge.status === 'failed'
              ? 'failed'
              : 'processing';
        const payment: PaymentChange = {
          kind: 'payment',
          provider: 'stripe',
          account,
          providerPaymentId: charge.id,
          merchantOrderNo: charge.metadata[options.orderMetadataKey] ?? null,
          amountMinor: BigInt(charge.amount),
          currency: normalizeCurrency(charge.currency),
          status,
          asOf,
        };
        if (synthetic) payment.succeededAt = new Date(charge.created * 1000);
        changes.push(payment);
      }
      break;
    }
    case 'refund': {
      const refund = parse(fastRefund, refundSchema, object, event.id, 'refund');
      mirror('refund', refund.id, refund.status);
      const change: RefundChange = {
        kind: 'refund',
        provider: 'stripe',
        account,
        providerRefundId: refund.id,
        providerPaymentId: refund.payment_intent ?? refund.charge ?? null,
        merchantRefundNo: refund.metadata.refund_id ?? null,
        merchantOrderNo: refund.metadata[options.orderMetadataKey] ?? null,
        amountMinor: BigInt(refund.amount),
        currency: normalizeCurrency(refund.currency),
        status: refund.status,
        asOf,
      };
      if (synthetic) change.succeededAt = new Date(refund.created * 1000);
      changes.push(change);
      break;
    }
    case 'dispute': {
      const dispute = parse(fastDispute, disputeSchema, object, event.id, 'dispute');
      mirror('dispute', dispute.id, dispute.status);
      changes.push({
        kind: 'dispute',
        provider: 'stripe',
        account,
        providerDisputeId: dispute.id,
        providerPaymentId: dispute.payment_intent ?? dispute.charge ?? null,
        amountMinor: BigInt(dispute.amount),
        currency: normalizeCurrency(dispute.currency),
        status: dispute.status,
        reason: dispute.reason ?? null,
        asOf,
      });
      break;
    }
    case 'customer': {
      const customer = parse(fastCustomer, customerSchema, object, event.id, 'customer');
      const deleted = customer.deleted === true || event.type === 'customer.deleted';
      mirror('customer', customer.id, deleted ? 'deleted' : 'active', deleted);
      break;
    }
    case 'invoice': {
      const invoice = parse(fastInvoice, invoiceSchema, object, event.id, 'invoice');
      mirror('invoice', invoice.id, invoice.status ?? 'draft');
      break;
    }
    case 'subscription': {
      const subscription = parse(fastSubscription, subscriptionSchema, object, event.id, 'subscription');
      mirror('subscription', subscription.id, subscription.status);
      break;
    }
    case 'payout': {
      const payout = parse(fastPayout, payoutSchema, object, event.id, 'payout');
      mirror('payout', payout.id, payout.status);
      break;
    }
    default:
      break; // stored in the inbox only
  }

  return {
    provider: 'stripe',
    eventId: event.id,
    eventType: event.type,
    account,
    occurredAt: asOf,
    apiVersion: event.api_version ?? null,
    changes,
  };
}
