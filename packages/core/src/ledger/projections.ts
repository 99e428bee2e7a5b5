// Writes ledger changes, set-based: all changes of a batch to one table go in one multi-row upsert. Each table
// keeps, per object, the snapshot with the highest version (see status.ts): `max` is order-independent, so any
// permutation and duplication of the same events converges to one state. Columns that summarise history (first
// seen, succeeded at) merge with least(), which is order-independent too. A multi-row `on conflict do update`
// may not touch one key twice, so the changes are first reduced per key with the same rule.
import type {
  DisputeChange,
  LedgerChange,
  ObjectSnapshotChange,
  PaymentChange,
  RefundChange,
} from './changes.ts';
import type { Tx } from './db.ts';
import { arrayLiteral, arrayOfLiterals } from './literals.ts';
import { ORDER_ACCOUNT_MATCH } from './merchant-orders.ts';
import { mirrorSpecFor } from './mirrors.ts';
import { type ObjectTie, recordTiesStatement } from './revalidations.ts';
import {
  DISPUTE_ORDER,
  isTie,
  ORDERING_PREFIX,
  orderingPrefix,
  orderOf,
  PAYMENT_ORDER,
  REFUND_ORDER,
  versionOf,
} from './status.ts';

/** A payment whose amount or currency differs from the merchant's own order; recorded, never dropped. */
export interface Anomaly {
  kind: 'amount_mismatch' | 'currency_mismatch';
  providerPaymentId: string;
  merchantOrderNo: string;
}

export interface ApplyResult {
  anomalies: Anomaly[];
}

/** An anomaly with the event whose change found it. */
export type EventAnomaly = Anomaly & { provider: string; eventId: string };

type Value = string | null;

interface TableSpec {
  table: string;
  key: readonly string[];
  /** Column name → SQL type of the unnest() array, in insert order: key, replaced columns, then merged ones. */
  types: Readonly<Record<string, string>>;
  replaced: readonly string[];
  /** Merged with least() across all versions (Postgres' least() and leastOf() both ignore NULLs). */
  least: readonly string[];
  /** Mirror tables whose provider can be asked for an object when two of its events tie. */
  revalidateTies?: boolean;
  /** A provider mirror table (key `id`, first_seen_at merged): its held versions are read before writing. */
  mirror?: boolean;
}

/**
 * One row for a table, ready to upsert: `values` follow `columns(spec)` (key, replaced, least, version), one array
 * per row rather than a record keyed by column name (fewer allocations, no keyed look-ups per column).
 */
interface Row {
  key: string;
  version: string;
  values: Value[];
  /** Mirror rows: what a tie on this row is recorded as. */
  object?: Omit<ObjectTie, 'eventIds'>;
  /**
   * Mirror rows: the snapshot, turned into the `data` text only if the row is sent (a row merged away or held
   * newer is never stringified); its place in `values` stays null.
   */
  snapshot?: unknown;
}

const eventIdOf = (version: string) => version.slice(ORDERING_PREFIX);

const columns = (spec: TableSpec) => [...spec.key, ...spec.replaced, ...spec.least, 'version'];

/** What upsertStatement and the merge need of a spec, worked out once per spec. */
interface SpecLayout {
  /** Per column of `columns(spec)`: the array literal that carries it. */
  literals: ((values: readonly Value[]) => string)[];
  /** Positions of `spec.least` in a row's values. */
  leastAt: number[];
  /** Position of first_seen_at (mirror rows), -1 if none. */
  firstSeenAt: number;
  /** Position of data (mirror rows: filled from the row's snapshot), -1 if none. */
  dataAt: number;
  head: string;
  tail: string;
}

const layouts = new Map<TableSpec, SpecLayout>();
function layoutOf(spec: TableSpec): SpecLayout {
  let layout = layouts.get(spec);
  if (!layout) {
    const cols = columns(spec);
    const list = cols.join(', ');
    layout = {
      literals: cols.map((c) => {
        const type = c === 'version' ? 'text' : spec.types[c]!;
        // Snapshots are long JSON texts: one literal each, nothing escaped.
        return c === 'data'
          ? (values: readonly Value[]) => arrayOfLiterals(values, type)
          : (values: readonly Value[]) => arrayLiteral(values, type);
      }),
      leastAt: spec.least.map((c) => cols.indexOf(c)),
      firstSeenAt: cols.indexOf('first_seen_at'),
      dataAt: cols.indexOf('data'),
      // Rows are inserted, and so locked, in the order given (sorted by key): one global lock order.
      head: `insert into ${spec.table} (${list})
    select ${list} from unnest(`,
      tail: `) with ordinality as u(${list}, ord)
    order by ord
    ${conflictClause(spec)}`,
    };
    layouts.set(spec, layout);
  }
  return layout;
}

/**
 * The `on conflict … do update` clause that replaces `replaced` only for a newer version and merges `least`. Its
 * `where` skips the update when neither would change the row (an older or repeated snapshot): the row is still
 * locked, in the same order, but no new row version, index entry or WAL is written for it.
 */
function conflictClause(spec: TableSpec): string {
  const held = (c: string) => `${spec.table}.${c}`;
  const newer = `excluded.version > ${held('version')}`;
  const assignments = [
    ...[...spec.replaced, 'version'].map(
      (c) => `${c} = case when ${newer} then excluded.${c} else ${held(c)} end`,
    ),
    ...spec.least.map((c) => `${c} = least(${held(c)}, excluded.${c})`),
  ];
  // least() ignores NULLs: a column changes when the incoming value is earlier, or the held one is NULL.
  const lowers = spec.least.map(
    (c) => `excluded.${c} < ${held(c)} or (${held(c)} is null and excluded.${c} is not null)`,
  );
  return `on conflict (${spec.key.join(', ')}) do update set ${assignments.join(', ')}
    where ${[newer, ...lowers].join(' or ')}`;
}

/** `insert … select from unnest(…) … on conflict do update` of `rows` (already sorted by key). */
function upsertStatement(spec: TableSpec, rows: readonly Row[]): string {
  const { literals, dataAt, head, tail } = layoutOf(spec);
  const column: Value[] = new Array(rows.length);
  let arrays = '';
  for (let c = 0; c < literals.length; c++) {
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as Row;
      column[r] = c === dataAt ? (JSON.stringify(row.snapshot) ?? null) : (row.values[c] ?? null);
    }
    arrays += c === 0 ? literals[c]!(column) : `, ${literals[c]!(column)}`;
  }
  return head + arrays + tail;
}

/**
 * What a mirror table holds for some objects, read before the batch writes (a plain read: no locks): the held
 * version and first_seen_at in whole milliseconds, rounded up (so "held ≤ incoming" never hides a sub-millisecond
 * earlier incoming time). Keyed by table, then object id.
 */
export type HeldVersions = ReadonlyMap<string, ReadonlyMap<string, { version: string; firstSeenMs: number }>>;

interface HeldRow {
  t: string;
  id: string;
  version: string;
  first_seen_ms: string | bigint;
}

/** The read of the held versions of every mirror row in `prepared`, one `union all` statement; null if none. */
export function heldVersionsStatement(prepared: readonly PreparedChanges[]): string | null {
  const ids = new Map<string, Set<string>>();
  for (const { rows } of prepared) {
    for (const { spec, row } of rows) {
      if (!spec.mirror) continue;
      let set = ids.get(spec.table);
      if (!set) {
        set = new Set();
        ids.set(spec.table, set);
      }
      set.add(row.key);
    }
  }
  if (ids.size === 0) return null;
  return [...ids]
    .map(
      ([table, keys]) =>
        `select '${table}' as t, id, version, ceil(extract(epoch from first_seen_at) * 1000)::int8 as first_seen_ms
        from ${table} where id = any(${arrayLiteral([...keys], 'text')})`,
    )
    .join('\n union all ');
}

export function heldVersionsOf(rows: readonly unknown[]): HeldVersions {
  const held = new Map<string, Map<string, { version: string; firstSeenMs: number }>>();
  for (const row of rows as HeldRow[]) {
    let table = held.get(row.t);
    if (!table) {
      table = new Map();
      held.set(row.t, table);
    }
    table.set(row.id, { version: row.version, firstSeenMs: Number(row.first_seen_ms) });
  }
  return held;
}

/**
 * Whether writing `row` over what the table holds can change nothing: its version is not newer (by what it
 * says — a tie broken by event id is left to SQL, whose text order decides it) and its first_seen_at is not
 * earlier. Versions only grow and first_seen_at only shrinks, so a read taken before the write stays valid.
 */
function changesNothing(
  row: Row,
  held: { version: string; firstSeenMs: number },
  firstSeenAt: number,
): boolean {
  const notNewer = held.version === row.version || orderingPrefix(held.version) > orderingPrefix(row.version);
  return notNewer && held.firstSeenMs <= Date.parse(row.values[firstSeenAt] as string);
}

/** The insert of ties found in memory and against the held rows into object_revalidations (revalidations.ts). */
function tiesStatement(ties: readonly ObjectTie[]): string {
  const column = (values: string[]) => arrayLiteral(values, 'text');
  return `with ties as (
      select * from unnest(${[
        column(ties.map((t) => t.provider)),
        column(ties.map((t) => t.objectType)),
        column(ties.map((t) => t.objectId)),
        column(ties.map((t) => t.account)),
        column(ties.map((t) => t.eventIds[0])),
        column(ties.map((t) => t.eventIds[1])),
      ].join(', ')}) as x(provider, object_type, object_id, account, first_event, second_event)
    )
    ${recordTiesStatement('ties')}`;
}

const LEDGER_COLUMNS = {
  provider: 'text',
  account: 'text',
  merchant_order_no: 'text',
  amount_minor: 'int8',
  currency: 'text',
  status: 'text',
  status_rank: 'int2',
  updated_at: 'timestamptz',
  last_event_id: 'text',
  first_seen_at: 'timestamptz',
  succeeded_at: 'timestamptz',
  provider_payment_id: 'text',
};

const PAYMENTS: TableSpec = {
  table: 'payments',
  key: ['provider', 'provider_payment_id'],
  types: LEDGER_COLUMNS,
  replaced: [
    'account',
    'merchant_order_no',
    'amount_minor',
    'currency',
    'status',
    'status_rank',
    'updated_at',
    'last_event_id',
  ],
  least: ['first_seen_at', 'succeeded_at'],
};

const REFUNDS: TableSpec = {
  table: 'refunds',
  key: ['provider', 'provider_refund_id'],
  types: { ...LEDGER_COLUMNS, provider_refund_id: 'text', merchant_refund_no: 'text' },
  replaced: [
    'provider_payment_id',
    'account',
    'merchant_refund_no',
    'merchant_order_no',
    'amount_minor',
    'currency',
    'status',
    'status_rank',
    'updated_at',
    'last_event_id',
  ],
  least: ['first_seen_at', 'succeeded_at'],
};

const DISPUTES: TableSpec = {
  table: 'disputes',
  key: ['provider', 'provider_dispute_id'],
  types: { ...LEDGER_COLUMNS, provider_dispute_id: 'text', reason: 'text' },
  replaced: [
    'provider_payment_id',
    'account',
    'amount_minor',
    'currency',
    'status',
    'status_rank',
    'reason',
    'updated_at',
    'last_event_id',
  ],
  least: ['first_seen_at'],
};

const mirrorSpecs = new Map<string, TableSpec>();
function mirrorTable(table: string, revalidateTies: boolean): TableSpec {
  let spec = mirrorSpecs.get(table);
  if (!spec) {
    spec = {
      table,
      revalidateTies,
      mirror: true,
      key: ['id'],
      types: {
        id: 'text',
        account: 'text',
        status: 'text',
        deleted: 'bool',
        data: 'jsonb',
        updated_at: 'timestamptz',
        last_event_id: 'text',
        first_seen_at: 'timestamptz',
      },
      replaced: ['account', 'status', 'deleted', 'data', 'updated_at', 'last_event_id'],
      least: ['first_seen_at'],
    };
    mirrorSpecs.set(table, spec);
  }
  return spec;
}

const iso = (d: Date) => d.toISOString();
const leastOf = (a: Value, b: Value): Value => {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
};
/** `asOf` is the change's asOf as ISO text, built once per row. */
const succeededAt = (change: PaymentChange | RefundChange, asOf: string): Value =>
  change.status !== 'succeeded' ? null : change.succeededAt ? iso(change.succeededAt) : asOf;

function paymentRow(change: PaymentChange, eventId: string): Row {
  const order = orderOf(PAYMENT_ORDER, change.status, 'payment');
  const version = versionOf(order, change.asOf, eventId);
  const asOf = iso(change.asOf);
  return {
    key: `${change.provider}\u0000${change.providerPaymentId}`,
    version,
    // PAYMENTS' columns: key, replaced, least, version.
    values: [
      change.provider,
      change.providerPaymentId,
      change.account,
      change.merchantOrderNo,
      change.amountMinor.toString(),
      change.currency,
      change.status,
      String(order.rank),
      asOf, // updated_at
      eventId, // last_event_id
      asOf, // first_seen_at
      succeededAt(change, asOf),
      version,
    ],
  };
}

function refundRow(change: RefundChange, eventId: string): Row {
  const order = orderOf(REFUND_ORDER, change.status, 'refund');
  const version = versionOf(order, change.asOf, eventId);
  const asOf = iso(change.asOf);
  return {
    key: `${change.provider}\u0000${change.providerRefundId}`,
    version,
    // REFUNDS' columns: key, replaced, least, version.
    values: [
      change.provider,
      change.providerRefundId,
      change.providerPaymentId,
      change.account,
      change.merchantRefundNo,
      change.merchantOrderNo,
      change.amountMinor.toString(),
      change.currency,
      change.status,
      String(order.rank),
      asOf, // updated_at
      eventId, // last_event_id
      asOf, // first_seen_at
      succeededAt(change, asOf),
      version,
    ],
  };
}

function disputeRow(change: DisputeChange, eventId: string): Row {
  const order = orderOf(DISPUTE_ORDER, change.status, 'dispute');
  const version = versionOf(order, change.asOf, eventId);
  const asOf = iso(change.asOf);
  return {
    key: `${change.provider}\u0000${change.providerDisputeId}`,
    version,
    // DISPUTES' columns: key, replaced, least, version.
    values: [
      change.provider,
      change.providerDisputeId,
      change.providerPaymentId,
      change.account,
      change.amountMinor.toString(),
      change.currency,
      change.status,
      String(order.rank),
      change.reason,
      asOf, // updated_at
      eventId, // last_event_id
      asOf, // first_seen_at
      version,
    ],
  };
}

function objectRow(change: ObjectSnapshotChange, eventId: string): { spec: TableSpec; row: Row } {
  const mirror = mirrorSpecFor(change.provider, change.objectType);
  const order = orderOf(mirror.statuses, change.orderKey ?? change.status ?? '', change.objectType);
  const version = versionOf(order, change.asOf, eventId);
  const asOf = iso(change.asOf);
  return {
    spec: mirrorTable(mirror.table, mirror.revalidateTies === true),
    row: {
      key: change.objectId,
      version,
      object: {
        provider: change.provider,
        account: change.account,
        objectType: change.objectType,
        objectId: change.objectId,
      },
      snapshot: change.snapshot,
      // A mirror table's columns: key, replaced, least, version.
      values: [
        change.objectId,
        change.account,
        change.status,
        String(change.deleted),
        null, // data: the snapshot, stringified when sent
        asOf, // updated_at
        eventId, // last_event_id
        asOf, // first_seen_at
        version,
      ],
    },
  };
}

/** A succeeded payment with a merchant order number: checked against merchant_orders. */
interface OrderCheck {
  change: PaymentChange;
  eventId: string;
}

/** One event's ledger rows, ranks looked up: built before anything is written or claimed. */
export interface PreparedChanges {
  rows: { spec: TableSpec; row: Row }[];
  checks: OrderCheck[];
}

/** Prepares one event's changes; throws (LedgerError) if one of them cannot be placed. */
export function prepareChanges(changes: readonly LedgerChange[], eventId: string): PreparedChanges {
  const rows: { spec: TableSpec; row: Row }[] = [];
  const checks: OrderCheck[] = [];
  for (const change of changes) {
    switch (change.kind) {
      case 'payment':
        rows.push({ spec: PAYMENTS, row: paymentRow(change, eventId) });
        if (change.status === 'succeeded' && change.merchantOrderNo) checks.push({ change, eventId });
        break;
      case 'refund':
        rows.push({ spec: REFUNDS, row: refundRow(change, eventId) });
        break;
      case 'dispute':
        rows.push({ spec: DISPUTES, row: disputeRow(change, eventId) });
        break;
      case 'object':
        rows.push(objectRow(change, eventId));
        break;
    }
  }
  return { rows, checks };
}

/** The statements that write a change set, in lock order; `check` returns the anomalies it recorded. */
export interface WriteStatements {
  upserts: string[];
  check: string | null;
}

/**
 * The ledger rows of a set of events, merged in memory with the version-merge rule, so each key is written once.
 */
export class ChangeSet {
  private readonly tables = new Map<TableSpec, Map<string, Row>>();
  private readonly checks: OrderCheck[] = [];
  /** Ties between events of this set, per mirror table (those with the held rows are found in statements()). */
  private readonly ties = new Map<TableSpec, ObjectTie[]>();
  /** Every row added, before merging: what heldVersionsStatement reads. */
  private readonly prepared: { spec: TableSpec; row: Row }[] = [];

  /** Adds one event's changes; throws (adding nothing) if one of them cannot be placed. */
  add(changes: readonly LedgerChange[], eventId: string): void {
    this.addPrepared(prepareChanges(changes, eventId));
  }

  /** Adds an event's prepared rows (each prepared set is added once: merging reuses its rows). */
  addPrepared(prepared: PreparedChanges): void {
    for (const { spec, row } of prepared.rows) {
      this.prepared.push({ spec, row });
      this.merge(spec, row);
    }
    for (const check of prepared.checks) this.checks.push(check);
  }

  /** The version-merge rule in memory: the highest version's columns win, least() columns merge over all. */
  private merge(spec: TableSpec, row: Row): void {
    let rows = this.tables.get(spec);
    if (!rows) {
      rows = new Map();
      this.tables.set(spec, rows);
    }
    const held = rows.get(row.key);
    if (!held) {
      rows.set(row.key, row);
      return;
    }
    const winner = row.version > held.version ? row : held;
    const loser = winner === row ? held : row;
    if (spec.revalidateTies && winner.object && isTie(winner.version, loser.version)) {
      const ties = this.ties.get(spec) ?? [];
      ties.push({ ...winner.object, eventIds: [eventIdOf(winner.version), eventIdOf(loser.version)] });
      this.ties.set(spec, ties);
    }
    for (const c of layoutOf(spec).leastAt) {
      winner.values[c] = leastOf(winner.values[c] ?? null, loser.values[c] ?? null);
    }
    rows.set(row.key, winner);
  }

  /**
   * One upsert per table in (table, key) order — mirror tables by name, then the ties of mirrored objects, then
   * payments, refunds, disputes — then the merchant-order check. Sent in this order on one connection, so every
   * batch takes its row locks in one global order. With `held` (heldVersionsStatement's rows, read earlier in the
   * transaction) a mirror row that cannot change anything is not sent at all, and ties with the held rows are
   * found here, in memory; without it every row is sent and only ties within this set are recorded.
   */
  statements(held?: HeldVersions): WriteStatements {
    const ledger = [PAYMENTS, REFUNDS, DISPUTES];
    const mirrors = [...this.tables.keys()]
      .filter((spec) => !ledger.includes(spec))
      .sort((a, b) => (a.table < b.table ? -1 : 1));
    const upserts: string[] = [];
    const ties: ObjectTie[] = [];
    const sortedRows = (spec: TableSpec) =>
      [...(this.tables.get(spec)?.values() ?? [])].sort((a, b) =>
        a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
      );
    for (const spec of mirrors) {
      const heldRows = held?.get(spec.table);
      const { firstSeenAt } = layoutOf(spec);
      const sent: Row[] = [];
      for (const row of sortedRows(spec)) {
        const h = heldRows?.get(row.key);
        if (h && spec.revalidateTies && row.object && isTie(row.version, h.version)) {
          ties.push({ ...row.object, eventIds: [eventIdOf(row.version), eventIdOf(h.version)] });
        }
        if (!h || !changesNothing(row, h, firstSeenAt)) sent.push(row);
      }
      if (spec.revalidateTies) ties.push(...(this.ties.get(spec) ?? []));
      if (sent.length > 0) upserts.push(upsertStatement(spec, sent));
    }
    if (ties.length > 0) upserts.push(tiesStatement(ties));
    for (const spec of ledger) {
      const rows = sortedRows(spec);
      if (rows.length > 0) upserts.push(upsertStatement(spec, rows));
    }
    return { upserts, check: this.checks.length > 0 ? merchantOrderCheck(this.checks) : null };
  }

  /** The read that `statements(held)` needs first (null: nothing mirrored). */
  heldVersionsStatement(): string | null {
    return heldVersionsStatement([{ rows: this.prepared, checks: [] }]);
  }

  /** Writes everything on the caller's transaction: the held versions first, then the statements pipelined. */
  async write(tx: Tx): Promise<EventAnomaly[]> {
    const read = this.heldVersionsStatement();
    const held = read ? heldVersionsOf(await tx.unsafe(read)) : undefined;
    const { upserts, check } = this.statements(held);
    // postgres.js sends a query when it is first awaited; execute() sends it now, so the order is this one.
    const sent = upserts.map((text) => tx.unsafe(text).execute());
    const found = check ? tx.unsafe<AnomalyRow[]>(check).execute() : Promise.resolve([]);
    const [rows] = await Promise.all([found, ...sent]);
    return anomaliesOf(rows);
  }
}

/** A row the merchant-order check returns. */
export interface AnomalyRow {
  provider: string;
  provider_payment_id: string;
  merchant_order_no: string;
  kind: Anomaly['kind'];
  event_id: string;
}

export function anomaliesOf(rows: readonly AnomalyRow[]): EventAnomaly[] {
  return rows.map((row) => ({
    kind: row.kind,
    providerPaymentId: row.provider_payment_id,
    merchantOrderNo: row.merchant_order_no,
    provider: row.provider,
    eventId: row.event_id,
  }));
}

/**
 * Every succeeded payment change is compared with its merchant order (the account's own order first; one
 * recorded without an account applies to any account), whether or not its snapshot won. Differences are
 * recorded once per payment and kind (`on conflict do nothing`); in lock order, the first change found wins.
 * Anomaly rows are keyed by payment, whose row lock the batch already holds: no lock cycle is possible.
 */
function merchantOrderCheck(checks: readonly OrderCheck[]): string {
  const sorted = [...checks].sort((a, b) => {
    const ka = `${a.change.provider}\u0000${a.change.providerPaymentId}`;
    const kb = `${b.change.provider}\u0000${b.change.providerPaymentId}`;
    return ka < kb ? -1 : ka > kb ? 1 : a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
  });
  return `with input as (
       select * from unnest(${[
         arrayLiteral(
           sorted.map((c) => c.change.provider),
           'text',
         ),
         arrayLiteral(
           sorted.map((c) => c.change.providerPaymentId),
           'text',
         ),
         arrayLiteral(
           sorted.map((c) => c.change.merchantOrderNo),
           'text',
         ),
         arrayLiteral(
           sorted.map((c) => c.change.account),
           'text',
         ),
         arrayLiteral(
           sorted.map((c) => c.change.amountMinor.toString()),
           'int8',
         ),
         arrayLiteral(
           sorted.map((c) => c.change.currency),
           'text',
         ),
         arrayLiteral(
           sorted.map((c) => c.eventId),
           'text',
         ),
       ].join(', ')})
         with ordinality as u(provider, provider_payment_id, merchant_order_no, account, amount_minor, currency,
           event_id, ord)
     ), found as (
       select i.*, m.amount_minor as expected_amount_minor, m.currency as expected_currency
       from input i cross join lateral (
         select amount_minor, currency from merchant_orders o
         where o.provider = i.provider and o.merchant_order_no = i.merchant_order_no and ${ORDER_ACCOUNT_MATCH}
         order by o.account desc limit 1
       ) m
     )
     insert into payment_anomalies (provider, provider_payment_id, merchant_order_no, kind, expected_amount_minor,
       expected_currency, actual_amount_minor, actual_currency, event_id)
     select f.provider, f.provider_payment_id, f.merchant_order_no, k.kind, f.expected_amount_minor,
       f.expected_currency, f.amount_minor, f.currency, f.event_id
     from found f cross join lateral (values
       (1, 'amount_mismatch', f.expected_amount_minor <> f.amount_minor),
       (2, 'currency_mismatch', btrim(f.expected_currency) <> f.currency)
     ) k(n, kind, differs)
     where k.differs
     order by f.ord, k.n
     on conflict do nothing
     returning provider, provider_payment_id, merchant_order_no, kind, event_id`;
}

/** Applies one event's changes (the per-message path and the reconciliation healer). */
export async function applyChanges(
  tx: Tx,
  changes: readonly LedgerChange[],
  eventId: string,
): Promise<ApplyResult> {
  const set = new ChangeSet();
  set.add(changes, eventId);
  const found = await set.write(tx);
  return {
    anomalies: found.map(({ kind, providerPaymentId, merchantOrderNo }) => ({
      kind,
      providerPaymentId,
      merchantOrderNo,
    })),
  };
}
