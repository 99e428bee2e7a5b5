// Valid Stripe object lifecycles for property tests: statuses in the order Stripe moves through them, with
// the rule Stripe's own clock obeys: within one second an object only moves forward (to a higher rank).
import { StripeHistory } from './stripe-scenario.ts';

export interface LifecycleStep {
  status: string;
  /** Extra fields that change with this step (amount_refunded, last_payment_error, …). */
  patch?: Record<string, unknown>;
  /** Several event types that Stripe sends for one and the same snapshot. */
  types: string[];
}

export type ObjectKind = 'payment_intent' | 'refund' | 'dispute' | 'subscription' | 'invoice';

export const LIFECYCLES: Record<ObjectKind, LifecycleStep[][]> = {
  payment_intent: [
    [
      { status: 'requires_payment_method', types: ['payment_intent.created'] },
      { status: 'requires_action', types: ['payment_intent.requires_action'] },
      { status: 'processing', types: ['payment_intent.processing'] },
      { status: 'succeeded', types: ['payment_intent.succeeded'] },
    ],
    [
      { status: 'requires_payment_method', types: ['payment_intent.created'] },
      {
        status: 'requires_payment_method',
        patch: { last_payment_error: { code: 'card_declined' } },
        types: ['payment_intent.payment_failed'],
      },
      { status: 'canceled', types: ['payment_intent.canceled'] },
    ],
    [
      { status: 'requires_payment_method', types: ['payment_intent.created'] },
      { status: 'requires_action', types: ['payment_intent.requires_action'] },
      {
        status: 'requires_payment_method',
        patch: { last_payment_error: { code: 'authentication_required' } },
        types: ['payment_intent.payment_failed'],
      },
      { status: 'succeeded', types: ['payment_intent.succeeded'] },
    ],
  ],
  refund: [
    [
      { status: 'pending', types: ['refund.created'] },
      { status: 'succeeded', types: ['refund.updated', 'charge.refund.updated'] },
    ],
    [
      { status: 'pending', types: ['refund.created'] },
      { status: 'requires_action', types: ['refund.updated'] },
      { status: 'succeeded', types: ['refund.updated'] },
      {
        status: 'failed',
        patch: { failure_reason: 'expired_or_canceled_card' },
        types: ['refund.failed', 'refund.updated'],
      },
    ],
  ],
  dispute: [
    [
      { status: 'needs_response', types: ['charge.dispute.created', 'charge.dispute.funds_withdrawn'] },
      { status: 'under_review', types: ['charge.dispute.updated'] },
      { status: 'won', types: ['charge.dispute.closed', 'charge.dispute.funds_reinstated'] },
    ],
  ],
  subscription: [
    [
      { status: 'incomplete', types: ['customer.subscription.created'] },
      { status: 'active', types: ['customer.subscription.updated'] },
      { status: 'past_due', types: ['customer.subscription.updated'] },
      { status: 'active', patch: { latest_invoice: 'in_2' }, types: ['customer.subscription.updated'] },
      { status: 'canceled', types: ['customer.subscription.deleted'] },
    ],
  ],
  invoice: [
    [
      { status: 'draft', types: ['invoice.created'] },
      { status: 'open', types: ['invoice.finalized'] },
      {
        status: 'paid',
        patch: { amount_paid: 1500 },
        types: ['invoice.updated', 'invoice.paid', 'invoice.payment_succeeded'],
      },
    ],
  ],
};

const RANK: Record<ObjectKind, Record<string, number>> = {
  payment_intent: {
    requires_payment_method: 10,
    failed: 15,
    requires_action: 30,
    processing: 40,
    succeeded: 100,
    canceled: 90,
  },
  refund: { pending: 10, requires_action: 20, succeeded: 90, failed: 95 },
  dispute: { needs_response: 30, under_review: 40, won: 95 },
  subscription: { incomplete: 10, active: 30, past_due: 40, canceled: 90 },
  invoice: { draft: 10, open: 20, paid: 90 },
};

function rankOf(kind: ObjectKind, step: LifecycleStep): number {
  const failed = kind === 'payment_intent' && step.patch?.last_payment_error !== undefined;
  return RANK[kind][failed ? 'failed' : step.status]!;
}

function baseObject(kind: ObjectKind, id: string, n: number): Record<string, unknown> {
  switch (kind) {
    case 'payment_intent':
      return {
        id,
        object: kind,
        amount: 1000 + n,
        currency: 'usd',
        created: 1,
        metadata: { order_id: `O-${n}` },
        last_payment_error: null,
      };
    case 'refund':
      return {
        id,
        object: kind,
        amount: 300 + n,
        currency: 'eur',
        charge: `ch_${n}`,
        payment_intent: `pi_x${n}`,
        created: 1,
        metadata: {},
      };
    case 'dispute':
      return {
        id,
        object: kind,
        amount: 700 + n,
        currency: 'gbp',
        reason: 'fraudulent',
        charge: `ch_${n}`,
        created: 1,
      };
    case 'subscription':
      return { id, object: kind, customer: `cus_${n}` };
    case 'invoice':
      return { id, object: kind, currency: 'usd', amount_due: 1500, amount_paid: 0 };
  }
}

export interface LifecyclePlan {
  kind: ObjectKind;
  path: number;
  /** Seconds between steps; a 0 is only used where the rank goes up. */
  gaps: number[];
}

/** Emits a history for the plans, in Stripe's own order (the "in-order delivery"). */
export function buildLifecycleHistory(
  plans: LifecyclePlan[],
  random: () => number,
  start = 1_763_900_000,
): StripeHistory {
  const history = new StripeHistory(random);
  plans.forEach((plan, n) => {
    const steps = LIFECYCLES[plan.kind][plan.path % LIFECYCLES[plan.kind].length]!;
    const prefix = { payment_intent: 'pi', refund: 're', dispute: 'dp', subscription: 'sub', invoice: 'in' }[
      plan.kind
    ];
    let object = baseObject(plan.kind, `${prefix}_p${n}`, n);
    let t = start + n;
    steps.forEach((step, i) => {
      if (i > 0) {
        const gap = plan.gaps[i % plan.gaps.length] ?? 1;
        const forward = rankOf(plan.kind, step) > rankOf(plan.kind, steps[i - 1]!);
        t += forward ? gap : Math.max(1, gap);
      }
      object = { ...object, ...step.patch, status: step.status };
      for (const type of step.types) history.emit(type, t, object);
    });
  });
  return history;
}
