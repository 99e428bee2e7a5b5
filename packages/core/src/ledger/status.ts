// Status ranks and terminal states. Together with the provider time of an event they form a version that
// totally orders snapshots of one object, so projections converge for any arrival order (design rule 3):
// a terminal state always beats a non-terminal one, then the later provider time wins, then the higher
// rank (Stripe's `created` has one-second resolution, so ties are common), then the event id.
// One rank table per status family: the ledger's own tables use these, and a provider's mirror tables
// (registered in mirrors.ts) reuse them where the family is the same (Stripe's disputes and refunds).
import { PayhooksError } from '../errors.ts';

/** A change the ledger cannot place: a status without a rank, an object type without a mirror table. */
export class LedgerError extends PayhooksError {}

export interface StatusOrder {
  rank: number;
  terminal: boolean;
}

export type StatusTable = Readonly<Record<string, StatusOrder>>;

const s = (rank: number, terminal = false): StatusOrder => ({ rank, terminal });

export const PAYMENT_ORDER: StatusTable = {
  pending: s(10),
  failed: s(15),
  requires_action: s(20),
  processing: s(30),
  authorized: s(40),
  canceled: s(90, true),
  succeeded: s(100, true),
};

export const REFUND_ORDER: StatusTable = {
  pending: s(10),
  requires_action: s(20),
  abnormal: s(30),
  succeeded: s(90, true),
  failed: s(95, true),
  canceled: s(95, true),
};

export const DISPUTE_ORDER: StatusTable = {
  warning_needs_response: s(10),
  warning_under_review: s(20),
  needs_response: s(30),
  under_review: s(40),
  warning_closed: s(90, true),
  prevented: s(90, true),
  won: s(95, true),
  lost: s(95, true),
};

/** Builds the sortable version string compared with `>` in SQL; fixed widths make text order = tuple order. */
export function versionOf(order: StatusOrder, asOf: Date, eventId: string): string {
  const time = asOf.getTime().toString().padStart(15, '0');
  const rank = order.rank.toString().padStart(3, '0');
  return `${order.terminal ? 1 : 0}:${time}:${rank}:${eventId}`;
}

/**
 * The part of a version that orders snapshots by what they say (terminal, provider time, rank); two versions
 * with the same prefix and different event ids are ordered only by event id, which says nothing about the object.
 */
export const ORDERING_PREFIX = '0:000000000000000:000:'.length;
export const orderingPrefix = (version: string) => version.slice(0, ORDERING_PREFIX);

/** Two different events the status rules cannot order: the tie is broken by event id, arbitrarily. */
export const isTie = (a: string, b: string) => a !== b && orderingPrefix(a) === orderingPrefix(b);

export function orderOf(table: StatusTable, status: string, what: string): StatusOrder {
  const order = table[status];
  if (!order) throw new LedgerError('LEDGER_NO_RANK', `no rank for ${what} status "${status}"`);
  return order;
}
