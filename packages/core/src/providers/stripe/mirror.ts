// How each mirrored Stripe object type is stored in the `stripe` schema and how its statuses are ordered
// (see ledger/status.ts for why a version decides between snapshots).
import type { StatusTable } from '../../ledger/status.ts';

const s = (rank: number, terminal = false) => ({ rank, terminal });

export interface MirrorSpec {
  table: string;
  statuses: StatusTable;
}

export const MIRROR: Readonly<Record<string, MirrorSpec>> = {
  payment_intent: {
    table: 'payment_intents',
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
  charge: { table: 'charges', statuses: { pending: s(10), failed: s(90, true), succeeded: s(100, true) } },
  refund: {
    table: 'refunds',
    statuses: {
      pending: s(10),
      requires_action: s(20),
      succeeded: s(90, true),
      failed: s(95, true),
      canceled: s(95, true),
    },
  },
  dispute: {
    table: 'disputes',
    statuses: {
      warning_needs_response: s(10),
      warning_under_review: s(20),
      needs_response: s(30),
      under_review: s(40),
      warning_closed: s(90, true),
      prevented: s(90, true),
      won: s(95, true),
      lost: s(95, true),
    },
  },
  customer: { table: 'customers', statuses: { active: s(10), deleted: s(100, true) } },
  invoice: {
    table: 'invoices',
    statuses: { draft: s(10), open: s(20), uncollectible: s(30), paid: s(90, true), void: s(90, true) },
  },
  subscription: {
    table: 'subscriptions',
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
    table: 'payouts',
    statuses: { pending: s(10), in_transit: s(20), paid: s(30), failed: s(90, true), canceled: s(90, true) },
  },
};
