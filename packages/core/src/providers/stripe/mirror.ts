// How each mirrored Stripe object type is stored in the `stripe` schema and how its statuses are ordered
// (see ledger/status.ts for why a version decides between snapshots). Registered with the ledger on import.
import { type MirrorSpec, registerMirrorTables } from '../../ledger/mirrors.ts';
import { DISPUTE_ORDER, REFUND_ORDER } from '../../ledger/status.ts';

const s = (rank: number, terminal = false) => ({ rank, terminal });

export const MIRROR: Readonly<Record<string, MirrorSpec>> = {
  payment_intent: {
    table: 'stripe.payment_intents',
    statuses: {
      // A declined attempt returns the intent to requires_payment_method with last_payment_error set; it
      // ranks above the fresh state so the two cannot tie within one second.
      requires_payment_method: s(10),
      'requires_payment_method:failed': s(15),
      requires_confirmation: s(20),
      requires_action: s(30),
      processing: s(40),
      requires_capture: s(50),
      canceled: s(90, true),
      succeeded: s(100, true),
    },
  },
  charge: {
    table: 'stripe.charges',
    statuses: { pending: s(10), failed: s(90, true), succeeded: s(100, true) },
  },
  // Stripe's refund and dispute statuses are the ledger's own families: one rank table each.
  refund: { table: 'stripe.refunds', statuses: REFUND_ORDER },
  dispute: { table: 'stripe.disputes', statuses: DISPUTE_ORDER },
  customer: { table: 'stripe.customers', statuses: { active: s(10), deleted: s(100, true) } },
  invoice: {
    table: 'stripe.invoices',
    statuses: { draft: s(10), open: s(20), uncollectible: s(30), paid: s(90, true), void: s(90, true) },
  },
  subscription: {
    table: 'stripe.subscriptions',
    statuses: {
      incomplete: s(10),
      trialing: s(20),
      active: s(30),
      paused: s(30),
      past_due: s(40),
      unpaid: s(50),
      incomplete_expired: s(90, true),
      canceled: s(90, true),
    },
  },
  // A payout marked paid can still fail later, so only failed and canceled are terminal.
  payout: {
    table: 'stripe.payouts',
    statuses: { pending: s(10), in_transit: s(20), paid: s(30), failed: s(90, true), canceled: s(90, true) },
  },
};

// Stripe can be asked for any mirrored object (StripeClient.retrieve): ties are revalidated.
registerMirrorTables(
  'stripe',
  Object.fromEntries(Object.entries(MIRROR).map(([type, spec]) => [type, { ...spec, revalidateTies: true }])),
);
