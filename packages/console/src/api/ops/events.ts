// Event search and event detail for operations: the inbox (every applied or stored event) found by provider event
// id, provider object id (payment intent / transaction id, charge, refund, dispute, customer…), merchant order
// number and provider time range, paged by keyset on (occurred_at, id); and one event with its outcome, the ledger
// rows whose last change it is, the anomalies it raised, the consumer's failure record and its raw body with
// personal data masked. Every read uses an index (migration 0017-consoleops; ops-queries.test.ts EXPLAINs them).
import type { Sql } from '@payhooks/core/ledger';
import { maskPersonalData, maskRawBody } from '@payhooks/core/logger';
import { OpsRequestError } from './errors.ts';

export const PROVIDERS = ['stripe', 'wechatpay'] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface EventSearch {
  /** A provider event id, provider object id or merchant order number (any of them). */
  q?: string;
  provider?: Provider;
  /** Provider event time at or after `from`, before `to`. */
  from?: Date;
  to?: Date;
  cursor?: string;
  limit?: number;
}

export interface EventSummary {
  provider: string;
  eventId: string;
  eventType: string;
  account: string;
  occurredAt: string;
  receivedAt: string;
  appliedAt: string;
  outcome: string;
  /** Provider event time → ledger commit. */
  lagMs: number;
}

export interface EventPage {
  events: EventSummary[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export const MAX_PAGE = 200;
const DEFAULT_PAGE = 50;

/** The keyset position `<occurred_at in epoch microseconds>.<inbox id>`: exact (a JS Date would lose µs). */
function parseCursor(cursor: string): { micros: bigint; id: bigint } {
  const match = /^(-?\d{1,19})\.(\d{1,19})$/.exec(cursor);
  if (!match) throw new OpsRequestError('OPS_BAD_CURSOR', 'cursor is not one this API returned');
  return { micros: BigInt(match[1]!), id: BigInt(match[2]!) };
}

type SummaryRow = {
  id: bigint;
  micros: bigint;
  provider: string;
  event_id: string;
  event_type: string;
  account: string;
  occurred_at: Date;
  received_at: Date;
  applied_at: Date;
  outcome: string;
};

const summary = (row: SummaryRow): EventSummary => ({
  provider: row.provider,
  eventId: row.event_id,
  eventType: row.event_type,
  account: row.account,
  occurredAt: row.occurred_at.toISOString(),
  receivedAt: row.received_at.toISOString(),
  appliedAt: row.applied_at.toISOString(),
  outcome: row.outcome,
  lagMs: row.applied_at.getTime() - row.occurred_at.getTime(),
});

/**
 * The (provider, event id) pairs a search term names: the event itself, or the last event of every ledger or
 * mirror row with that object id or merchant order number (and of the refunds and disputes of such payments).
 * Earlier events of an object are found by time range (the inbox does not index object ids: WeChat Pay bodies
 * are stored encrypted).
 */
function candidates(sql: Sql, q: string, providers: readonly string[]) {
  const stripeMirror = [
    'payment_intents',
    'charges',
    'refunds',
    'disputes',
    'customers',
    'invoices',
    'subscriptions',
    'payouts',
  ];
  const stripe = providers.includes('stripe');
  const wechatpay = providers.includes('wechatpay');
  return sql`
    select provider, event_id from inbox_events where provider in ${sql(providers)} and event_id = ${q}
    union select provider, last_event_id from payments
      where provider in ${sql(providers)} and (provider_payment_id = ${q})
    union select provider, last_event_id from payments
      where provider in ${sql(providers)} and merchant_order_no = ${q}
    union select provider, last_event_id from refunds
      where provider in ${sql(providers)} and provider_refund_id = ${q}
    union select provider, last_event_id from refunds
      where provider in ${sql(providers)} and provider_payment_id = ${q}
    union select provider, last_event_id from refunds
      where provider in ${sql(providers)} and merchant_order_no = ${q}
    union select provider, last_event_id from disputes
      where provider in ${sql(providers)} and provider_dispute_id = ${q}
    union select provider, last_event_id from disputes
      where provider in ${sql(providers)} and provider_payment_id = ${q}
    union select r.provider, r.last_event_id from payments p
      join refunds r on r.provider = p.provider and r.provider_payment_id = p.provider_payment_id
      where p.provider in ${sql(providers)} and p.merchant_order_no = ${q}
    union select d.provider, d.last_event_id from payments p
      join disputes d on d.provider = p.provider and d.provider_payment_id = p.provider_payment_id
      where p.provider in ${sql(providers)} and p.merchant_order_no = ${q}
    union select provider, event_id from payment_anomalies
      where provider in ${sql(providers)} and provider_payment_id = ${q}
    ${stripe ? stripeMirror.map((t) => sql`union select 'stripe', last_event_id from ${sql(`stripe.${t}`)} where id = ${q}`).reduce((a, b) => sql`${a} ${b}`) : sql``}
    ${
      wechatpay
        ? sql`
          union select 'wechatpay', last_event_id from wechatpay.transactions where id = ${q}
          union select 'wechatpay', last_event_id from wechatpay.refunds where id = ${q}
          union select 'wechatpay', last_event_id from wechatpay.profit_sharing where transaction_id = ${q}`
        : sql``
    }`;
}

export async function searchEvents(sql: Sql, search: EventSearch): Promise<EventPage> {
  const limit = Math.min(Math.max(1, search.limit ?? DEFAULT_PAGE), MAX_PAGE);
  const providers = search.provider ? [search.provider] : [...PROVIDERS];
  const q = search.q?.trim();
  const after = search.cursor ? parseCursor(search.cursor) : undefined;
  const where = [
    search.from ? sql`and e.occurred_at >= ${search.from}` : sql``,
    search.to ? sql`and e.occurred_at < ${search.to}` : sql``,
    after
      ? sql`and (e.occurred_at, e.id) < (timestamptz 'epoch' + ${after.micros.toString()}::int8 * interval '1 microsecond', ${after.id.toString()}::int8)`
      : sql``,
  ];
  const rows = q
    ? await sql<SummaryRow[]>`
        with named (provider, event_id) as (${candidates(sql, q, providers)})
        select e.id, (extract(epoch from e.occurred_at) * 1000000)::int8 as micros, e.provider, e.event_id,
          e.event_type, e.account, e.occurred_at, e.received_at, e.applied_at, e.outcome
        from named n join inbox_events e on e.provider = n.provider and e.event_id = n.event_id
        where true ${where[0]!} ${where[1]!} ${where[2]!}
        order by e.occurred_at desc, e.id desc
        limit ${limit + 1}`
    : await sql<SummaryRow[]>`
        select e.id, (extract(epoch from e.occurred_at) * 1000000)::int8 as micros, e.provider, e.event_id,
          e.event_type, e.account, e.occurred_at, e.received_at, e.applied_at, e.outcome
        from inbox_events e
        where e.provider in ${sql(providers)} ${where[0]!} ${where[1]!} ${where[2]!}
        order by e.occurred_at desc, e.id desc
        limit ${limit + 1}`;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    events: page.map(summary),
    nextCursor: rows.length > limit && last ? `${last.micros}.${last.id}` : null,
  };
}

type Row = Record<string, unknown>;

/** A database row as JSON: bigints as decimal strings (money stays exact), times as ISO strings. */
export type JsonRow = Record<string, unknown>;

function jsonRow(row: Record<string, unknown>): JsonRow {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [
      k,
      typeof v === 'bigint' ? v.toString() : v instanceof Date ? v.toISOString() : v,
    ]),
  );
}

export interface MirrorRow {
  table: string;
  id: string;
  status: string | null;
  /** Whether this event is the row's last change (false: a later event changed it since). */
  lastChangedByThisEvent: boolean;
  lastEventId: string;
  /** The kept provider object, personal data masked. */
  data: unknown;
}

export interface EventDetail {
  event: (EventSummary & { apiVersion: string | null; rawPayloadPurgedAt: string | null }) | null;
  /** The ledger rows whose last change is this event. */
  changed: {
    payments: JsonRow[];
    refunds: JsonRow[];
    disputes: JsonRow[];
    anomalies: JsonRow[];
    /** The merchant orders of the changed payments and refunds (what the order should be paid). */
    merchantOrders: JsonRow[];
    /** Mirror rows of the objects this event is about. */
    mirror: MirrorRow[];
  };
  /** Failed attempts the consumer recorded for this event (newest first). */
  failures: JsonRow[];
  /** Present only when asked (ops): the verified raw body with personal data masked; null once purged. */
  rawBody?: string | null;
}

const STRIPE_MIRROR_BY_OBJECT: Record<string, string> = {
  payment_intent: 'stripe.payment_intents',
  charge: 'stripe.charges',
  refund: 'stripe.refunds',
  dispute: 'stripe.disputes',
  customer: 'stripe.customers',
  invoice: 'stripe.invoices',
  subscription: 'stripe.subscriptions',
  payout: 'stripe.payouts',
};

/** The object a Stripe event is about (its `data.object`), when the body says. */
function stripeObjectOf(rawBody: string | null): { table: string; id: string } | undefined {
  if (!rawBody) return undefined;
  try {
    const object = (JSON.parse(rawBody) as { data?: { object?: { id?: unknown; object?: unknown } } }).data
      ?.object;
    const table = typeof object?.object === 'string' ? STRIPE_MIRROR_BY_OBJECT[object.object] : undefined;
    return table && typeof object?.id === 'string' ? { table, id: object.id } : undefined;
  } catch {
    return undefined;
  }
}

async function mirrorRows(sql: Sql, table: string, ids: readonly string[], eventId: string) {
  if (ids.length === 0) return [];
  const rows = await sql<{ id: string; status: string | null; last_event_id: string; data: unknown }[]>`
    select id, status, last_event_id, data from ${sql(table)}
    where id in ${sql(ids)}`;
  return rows.map(
    (r): MirrorRow => ({
      table,
      id: r.id,
      status: r.status,
      lastChangedByThisEvent: r.last_event_id === eventId,
      lastEventId: r.last_event_id,
      data: maskPersonalData(r.data),
    }),
  );
}

export async function getEventDetail(
  sql: Sql,
  provider: Provider,
  eventId: string,
  options: { rawBody: boolean },
): Promise<EventDetail | undefined> {
  const [event] = await sql<
    (SummaryRow & {
      api_version: string | null;
      raw_payload: string | null;
      raw_payload_purged_at: Date | null;
    })[]
  >`
    select id, 0::int8 as micros, provider, event_id, event_type, account, occurred_at, received_at, applied_at,
      outcome, api_version, raw_payload, raw_payload_purged_at
    from inbox_events where provider = ${provider} and event_id = ${eventId}`;
  const failures = await sql`
    select failed_at, message_id, attempt, error_code, error_message from delivery_failures
    where provider = ${provider} and event_id = ${eventId} order by failed_at desc, id desc limit 50`;
  if (!event && failures.length === 0) return undefined;
  // By last_event_id alone (its index); the provider is checked here, so no plan picks the provider column.
  const ofProvider = <T extends { provider?: unknown }>(rows: readonly T[]) =>
    rows.filter((r) => r.provider === provider);
  const [payments, refunds, disputes, anomalies] = (
    await Promise.all([
      sql`select * from payments where last_event_id = ${eventId}`,
      sql`select * from refunds where last_event_id = ${eventId}`,
      sql`select * from disputes where last_event_id = ${eventId}`,
      sql`select * from payment_anomalies where event_id = ${eventId}`,
    ])
  ).map(ofProvider) as [Row[], Row[], Row[], Row[]];
  const changedRows = [...payments, ...refunds].filter((r) => r.merchant_order_no);
  // An order is the payment's own account's, '' (any account of the provider), or Stripe's platform for ''.
  const accounts = [
    ...new Set(
      changedRows.flatMap((r) => [r.account as string, '', ...(r.account === '' ? ['platform'] : [])]),
    ),
  ];
  const orderNos = [...new Set(changedRows.map((r) => r.merchant_order_no as string))];
  const merchantOrders =
    orderNos.length === 0
      ? []
      : await sql`
          select * from merchant_orders
          where provider = ${provider} and account in ${sql(accounts)} and merchant_order_no in ${sql(orderNos)}`;
  const mirror: MirrorRow[] = [];
  if (provider === 'stripe') {
    const object = event ? stripeObjectOf(event.raw_payload) : undefined;
    if (object) mirror.push(...(await mirrorRows(sql, object.table, [object.id], eventId)));
  } else {
    const paymentIds = payments.map((p) => p.provider_payment_id as string);
    mirror.push(...(await mirrorRows(sql, 'wechatpay.transactions', paymentIds, eventId)));
    mirror.push(
      ...(await mirrorRows(
        sql,
        'wechatpay.refunds',
        refunds.map((r) => r.provider_refund_id as string),
        eventId,
      )),
    );
  }
  return {
    event: event
      ? {
          ...summary(event),
          apiVersion: event.api_version,
          rawPayloadPurgedAt: event.raw_payload_purged_at?.toISOString() ?? null,
        }
      : null,
    changed: {
      payments: payments.map(jsonRow),
      refunds: refunds.map(jsonRow),
      disputes: disputes.map(jsonRow),
      anomalies: anomalies.map(jsonRow),
      merchantOrders: merchantOrders.map(jsonRow),
      mirror,
    },
    failures: failures.map(jsonRow),
    ...(options.rawBody ? { rawBody: event?.raw_payload ? maskRawBody(event.raw_payload) : null } : {}),
  };
}
