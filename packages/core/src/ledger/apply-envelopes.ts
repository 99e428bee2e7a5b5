// Applies queue envelopes to the ledger through the inbox, with exactly-once effect: the inbox row (unique
// provider + event id) and the event's projections commit together. A batch is applied set-based in two
// pipelined flights of statements, whatever its size (see docs/decisions.md, "Consumer throughput"):
//   1. [begin,] the inbox claim of every decodable envelope with its outcome, a look-up of the undecodable
//      ones (a known event is a duplicate, whatever its body), and the held versions of the mirror rows;
//   2. one upsert per table for the claimed events only (mirror rows that cannot change anything left out, ties
//      with the held rows recorded), the merchant-order check[, commit].
// Envelopes are decoded and their changes prepared before the claim, so the claim already carries the outcome
// and a message that cannot be decoded or placed is never claimed: it fails alone. A batch of several events
// first reads which of them the inbox already holds (a plain read, no locks, before the claim): those are
// duplicates whatever their body, so they are neither decoded nor sent (docs/decisions.md, "Consumer: known
// events first").

import type { Envelope } from '../envelope.ts';
import { PayhooksError } from '../errors.ts';
import type { NormalizedEvent } from './changes.ts';
import type { Sql, Tx } from './db.ts';
import { arrayLiteral, arrayOfLiterals } from './literals.ts';
import {
  type Anomaly,
  type AnomalyRow,
  anomaliesOf,
  ChangeSet,
  heldVersionsOf,
  heldVersionsStatement,
  type PreparedChanges,
  prepareChanges,
} from './projections.ts';

/** Provider-specific decoding (Stripe: parse; WeChat: decrypt + parse). Throws to send the message back. */
export type EnvelopeNormalizer = (envelope: Envelope) => NormalizedEvent | Promise<NormalizedEvent>;

export type ApplyOutcome =
  | { outcome: 'duplicate' }
  | { outcome: 'applied' | 'stored'; changes: number; anomalies: Anomaly[] };

export type BatchOutcome = ApplyOutcome | { outcome: 'failed'; error: unknown };

interface BatchItem {
  id: string;
  envelope: Envelope;
}

/**
 * Where a batch's statements go, in order and pipelined: the caller's transaction, or a reserved connection on
 * which this module opens and commits the transaction itself (`begin` rides with the claim, `commit` with the
 * writes: two round trips per batch, after the read of the events already known).
 */
interface Link {
  opening: readonly string[];
  closing: readonly string[];
  /** Sends the statements at once, in order; resolves with each one's rows, or rejects with the first error. */
  send(statements: readonly string[]): Promise<unknown[]>;
}

const inboxKey = (provider: string, eventId: string) => `${provider}\u0000${eventId}`;
const keyOf = (envelope: Envelope) => inboxKey(envelope.provider, envelope.eventId);

async function sendAll(conn: Pick<Tx, 'unsafe'>, statements: readonly string[]): Promise<unknown[]> {
  // postgres.js sends a query when it is first awaited; execute() sends it now, so the order is this one.
  const settled = await Promise.allSettled(statements.map((text) => conn.unsafe(text).execute()));
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value);
}

const transactionLink = (tx: Tx): Link => ({
  opening: [],
  closing: [],
  send: (statements) => sendAll(tx, statements),
});

const outcomeOf = (event: NormalizedEvent) => (event.changes.length > 0 ? 'applied' : 'stored');

interface Decoded {
  item: BatchItem;
  event: NormalizedEvent;
  prepared: PreparedChanges;
}

/** The inbox claim of the decoded envelopes (sorted by inbox key: rows are locked in that order), with outcomes. */
function claimStatement(decoded: readonly Decoded[]): string {
  const envelopes = decoded.map((d) => d.item.envelope);
  const text = (values: (string | null)[]) => arrayLiteral(values, 'text');
  const time = (values: string[]) => arrayLiteral(values, 'timestamptz');
  const providers = text(envelopes.map((e) => e.provider));
  const eventIds = text(envelopes.map((e) => e.eventId));
  const eventTypes = text(envelopes.map((e) => e.eventType));
  const accounts = text(envelopes.map((e) => e.account));
  const occurred = time(envelopes.map((e) => e.occurredAt));
  const received = time(envelopes.map((e) => e.receivedAt));
  const outcomes = text(decoded.map((d) => outcomeOf(d.event)));
  const apiVersions = text(decoded.map((d) => d.event.apiVersion));
  const bodies = arrayOfLiterals(
    envelopes.map((e) => e.rawBody),
    'text',
  );
  // A template, not a join: the raw bodies stay one rope with the rest, flattened once when it is written.
  return `insert into inbox_events
       (provider, event_id, event_type, account, occurred_at, received_at, outcome, api_version, raw_payload)
     select provider, event_id, event_type, account, occurred_at, received_at, outcome, api_version, raw_payload
     from unnest(${providers}, ${eventIds}, ${eventTypes}, ${accounts}, ${occurred}, ${received}, ${outcomes}, ${apiVersions}, ${bodies})
       with ordinality as u(provider, event_id, event_type, account, occurred_at, received_at, outcome, api_version,
         raw_payload, ord)
     order by ord
     on conflict (provider, event_id) do nothing returning provider, event_id`;
}

/** Which of these envelopes' events the inbox already holds (a plain read: no locks). */
function knownStatement(envelopes: readonly Envelope[]): string {
  return `select provider, event_id from inbox_events where (provider, event_id) in (
       select * from unnest(${arrayLiteral(
         envelopes.map((e) => e.provider),
         'text',
       )}, ${arrayLiteral(
         envelopes.map((e) => e.eventId),
         'text',
       )}))`;
}

const keysOf = (rows: unknown) =>
  new Set(
    (rows as { provider: string; event_id: string }[]).map((row) => inboxKey(row.provider, row.event_id)),
  );

async function decode(envelope: Envelope, normalize: EnvelopeNormalizer): Promise<NormalizedEvent> {
  const event = await normalize(envelope);
  if (event.eventId !== envelope.eventId || event.provider !== envelope.provider) {
    throw new PayhooksError(
      'LEDGER_ENVELOPE_MISMATCH',
      `envelope ${envelope.provider}/${envelope.eventId} does not match its body (${event.provider}/${event.eventId})`,
    );
  }
  return event;
}

/** Applies one envelope (the per-message path and the reconciliation healer): the batch of one. */
export async function applyEnvelope(
  tx: Tx,
  envelope: Envelope,
  normalize: EnvelopeNormalizer,
): Promise<ApplyOutcome> {
  const outcome = (
    await applyEnvelopes(transactionLink(tx), [{ id: '', envelope }], () => normalize, { knownFirst: false })
  ).get('');
  if (!outcome) throw new PayhooksError('LEDGER_NO_OUTCOME', 'the envelope has no outcome');
  if (outcome.outcome === 'failed') throw outcome.error;
  return outcome;
}

/**
 * Applies several envelopes in the caller's transaction, set-based (see the top of this module). An event that
 * cannot be decoded or placed is failed alone (never claimed); a database error rejects, and the caller's
 * transaction rolls back.
 */
export function applyEnvelopeBatch(
  tx: Tx,
  items: readonly BatchItem[],
  normalizerFor: (envelope: Envelope) => EnvelopeNormalizer,
): Promise<Map<string, BatchOutcome>> {
  return applyEnvelopes(transactionLink(tx), items, normalizerFor, { knownFirst: true });
}

/**
 * applyEnvelopeBatch in a transaction of its own on one reserved connection of `sql`, committed when this
 * resolves: `begin` is pipelined with the claim and `commit` with the writes, so a batch costs two round trips
 * (three with the read of the known events, which runs before `begin`) and holds its row locks for one. A
 * database error rejects with the transaction rolled back.
 */
export async function commitEnvelopeBatch(
  sql: Sql,
  items: readonly BatchItem[],
  normalizerFor: (envelope: Envelope) => EnvelopeNormalizer,
): Promise<Map<string, BatchOutcome>> {
  const connection = await sql.reserve();
  try {
    return await applyEnvelopes(
      { opening: ['begin'], closing: ['commit'], send: (statements) => sendAll(connection, statements) },
      items,
      normalizerFor,
      { knownFirst: true },
    );
  } catch (error) {
    // A failed statement has aborted the transaction (a pipelined commit then rolled it back already; a second
    // rollback only warns): nothing of the batch stays, the connection is clean for the next one.
    await connection.unsafe('rollback').catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}

/**
 * Which of `firsts` the inbox holds, read before anything is decoded: a retried event costs one index probe here
 * instead of its decoding, its changes' preparation and its bytes in the claim. Null when not worth a round trip.
 */
async function knownBeforehand(link: Link, firsts: readonly BatchItem[]): Promise<Set<string> | null> {
  if (firsts.length < 2) return null;
  const [rows] = await link.send([knownStatement(firsts.map((item) => item.envelope))]);
  return keysOf(rows);
}

async function applyEnvelopes(
  link: Link,
  items: readonly BatchItem[],
  normalizerFor: (envelope: Envelope) => EnvelopeNormalizer,
  options: { knownFirst: boolean },
): Promise<Map<string, BatchOutcome>> {
  const outcomes = new Map<string, BatchOutcome>();
  // Each inbox key built once (not twice per comparison of the sort).
  const ordered = items
    .map((item) => ({ item, key: keyOf(item.envelope) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  // The first message of a key takes the claim; a copy in the same batch shares its fate (a duplicate, or failed
  // with it: "duplicate" means the ledger has the event).
  const firsts: { item: BatchItem; key: string }[] = [];
  const copies: { item: BatchItem; first: BatchItem }[] = [];
  for (const entry of ordered) {
    const previous = firsts[firsts.length - 1];
    if (previous && entry.key === previous.key) copies.push({ item: entry.item, first: previous.item });
    else firsts.push(entry);
  }

  const known = options.knownFirst
    ? await knownBeforehand(
        link,
        firsts.map(({ item }) => item),
      )
    : null;
  const decoded: Decoded[] = [];
  const undecodable: { item: BatchItem; error: unknown }[] = [];
  for (const { item, key } of firsts) {
    if (known?.has(key)) {
      outcomes.set(item.id, { outcome: 'duplicate' });
      continue;
    }
    try {
      const event = await decode(item.envelope, normalizerFor(item.envelope));
      decoded.push({ item, event, prepared: prepareChanges(event.changes, event.eventId) });
    } catch (error) {
      undecodable.push({ item, error });
    }
  }

  // Read beforehand, an undecodable message's event was not in the inbox: it fails without a second look-up.
  await applyDecoded(link, decoded, undecodable, outcomes, known !== null);
  for (const { item, first } of copies) {
    const outcome = outcomes.get(first.id);
    outcomes.set(item.id, outcome?.outcome === 'failed' ? outcome : { outcome: 'duplicate' });
  }
  return outcomes;
}

async function applyDecoded(
  link: Link,
  decoded: readonly Decoded[],
  undecodable: readonly { item: BatchItem; error: unknown }[],
  outcomes: Map<string, BatchOutcome>,
  knownRead: boolean,
): Promise<void> {
  if (decoded.length === 0 && undecodable.length === 0) return;
  const first = [...link.opening];
  if (decoded.length > 0) first.push(claimStatement(decoded));
  const claimAt = first.length - 1;
  const lookUp = undecodable.length > 0 && !knownRead;
  if (lookUp) first.push(knownStatement(undecodable.map(({ item }) => item.envelope)));
  const knownAt = first.length - 1;
  // The mirror rows' held versions (every decoded event's: the claim's answer is not known yet), so flight 2
  // sends no mirror write that cannot change anything and finds ties without another read.
  const read = heldVersionsStatement(decoded.map((d) => d.prepared));
  if (read) first.push(read);
  const firstRows = await link.send(first);
  const claimed = decoded.length > 0 ? keysOf(firstRows[claimAt]) : new Set<string>();
  const known = lookUp ? keysOf(firstRows[knownAt]) : new Set<string>();
  const held = read ? heldVersionsOf(firstRows[first.length - 1] as unknown[]) : undefined;

  for (const { item, error } of undecodable) {
    outcomes.set(
      item.id,
      known.has(keyOf(item.envelope)) ? { outcome: 'duplicate' } : { outcome: 'failed', error },
    );
  }
  const set = new ChangeSet();
  const applied: Decoded[] = [];
  for (const d of decoded) {
    if (!claimed.has(keyOf(d.item.envelope))) {
      // Applied before (or by a concurrent batch that committed first): its changes are already in.
      outcomes.set(d.item.id, { outcome: 'duplicate' });
      continue;
    }
    set.addPrepared(d.prepared);
    applied.push(d);
  }

  const { upserts, check } = set.statements(held);
  const second = [...upserts, ...(check ? [check] : []), ...link.closing];
  const secondRows = second.length > 0 ? await link.send(second) : [];
  const found = check ? anomaliesOf(secondRows[upserts.length] as AnomalyRow[]) : [];
  const anomalies = new Map<string, Anomaly[]>();
  for (const { provider, eventId, kind, providerPaymentId, merchantOrderNo } of found) {
    const key = inboxKey(provider, eventId);
    anomalies.set(key, [...(anomalies.get(key) ?? []), { kind, providerPaymentId, merchantOrderNo }]);
  }
  for (const { item, event } of applied) {
    outcomes.set(item.id, {
      outcome: outcomeOf(event),
      changes: event.changes.length,
      anomalies: anomalies.get(keyOf(item.envelope)) ?? [],
    });
  }
}
