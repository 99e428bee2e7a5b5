// Applies queue envelopes to the ledger through the inbox, with exactly-once effect: the inbox row (unique
// provider + event id) and the event's projections commit together. Duplicates stop at the inbox insert, before
// any decoding. A batch is applied set-based: a handful of statements, whatever its size (see docs/decisions.md).

import type { Envelope } from '../envelope.ts';
import { PayhooksError } from '../errors.ts';
import type { NormalizedEvent } from './changes.ts';
import type { Tx } from './db.ts';
import { arrayLiteral } from './literals.ts';
import { type Anomaly, ChangeSet } from './projections.ts';

/** Provider-specific decoding (Stripe: parse; WeChat: decrypt + parse). Throws to send the message back. */
export type EnvelopeNormalizer = (envelope: Envelope) => NormalizedEvent | Promise<NormalizedEvent>;

export type ApplyOutcome =
  | { outcome: 'duplicate' }
  | { outcome: 'applied' | 'stored'; changes: number; anomalies: Anomaly[] };

export type BatchOutcome = ApplyOutcome | { outcome: 'failed'; error: unknown };

const inboxKey = (provider: string, eventId: string) => `${provider}\u0000${eventId}`;

/**
 * Claims the inbox rows of all envelopes in one statement, in the order given (callers sort by inbox key: rows
 * are locked in that order). Returns the inbox id per inbox key for the envelopes not seen before.
 */
async function claimInbox(tx: Tx, envelopes: readonly Envelope[]): Promise<Map<string, bigint>> {
  const claimed = await tx.unsafe<{ id: bigint; provider: string; event_id: string }[]>(
    `insert into inbox_events (provider, event_id, event_type, account, occurred_at, received_at, outcome, raw_payload)
     select provider, event_id, event_type, account, occurred_at, received_at, 'stored', raw_payload
     from unnest(${[
       arrayLiteral(
         envelopes.map((e) => e.provider),
         'text',
       ),
       arrayLiteral(
         envelopes.map((e) => e.eventId),
         'text',
       ),
       arrayLiteral(
         envelopes.map((e) => e.eventType),
         'text',
       ),
       arrayLiteral(
         envelopes.map((e) => e.account),
         'text',
       ),
       arrayLiteral(
         envelopes.map((e) => e.occurredAt),
         'timestamptz',
       ),
       arrayLiteral(
         envelopes.map((e) => e.receivedAt),
         'timestamptz',
       ),
       arrayLiteral(
         envelopes.map((e) => e.rawBody),
         'text',
       ),
     ].join(', ')})
       with ordinality as u(provider, event_id, event_type, account, occurred_at, received_at, raw_payload, ord)
     order by ord
     on conflict (provider, event_id) do nothing returning id, provider, event_id`,
  );
  return new Map(claimed.map((row) => [inboxKey(row.provider, row.event_id), row.id]));
}

async function normalizeChecked(envelope: Envelope, normalize: EnvelopeNormalizer): Promise<NormalizedEvent> {
  const event = await normalize(envelope);
  if (event.eventId !== envelope.eventId || event.provider !== envelope.provider) {
    throw new PayhooksError(
      'LEDGER_ENVELOPE_MISMATCH',
      `envelope ${envelope.provider}/${envelope.eventId} does not match its body (${event.provider}/${event.eventId})`,
    );
  }
  return event;
}

const outcomeOf = (event: NormalizedEvent) => (event.changes.length > 0 ? 'applied' : 'stored');

/** Records every event's outcome in one statement; rows still at the claim's values are left alone. */
function recordOutcomes(tx: Tx, events: readonly { inboxId: bigint; event: NormalizedEvent }[]) {
  const changed = events.filter(({ event }) => outcomeOf(event) !== 'stored' || event.apiVersion !== null);
  if (changed.length === 0) return undefined;
  return tx
    .unsafe(
      `update inbox_events i set outcome = u.outcome, api_version = u.api_version
       from unnest(${[
         arrayLiteral(
           changed.map(({ inboxId }) => inboxId.toString()),
           'int8',
         ),
         arrayLiteral(
           changed.map(({ event }) => outcomeOf(event)),
           'text',
         ),
         arrayLiteral(
           changed.map(({ event }) => event.apiVersion),
           'text',
         ),
       ].join(', ')}) as u(id, outcome, api_version) where i.id = u.id`,
    )
    .execute();
}

/** Applies one envelope (the per-message path and the reconciliation healer): the batch of one. */
export async function applyEnvelope(
  tx: Tx,
  envelope: Envelope,
  normalize: EnvelopeNormalizer,
): Promise<ApplyOutcome> {
  const outcome = (await applyEnvelopes(tx, [{ id: '', envelope }], () => normalize, true)).get('');
  if (!outcome) throw new PayhooksError('LEDGER_NO_OUTCOME', 'the envelope has no outcome');
  if (outcome.outcome === 'failed') throw outcome.error;
  return outcome;
}

/**
 * Applies several envelopes in one transaction, set-based: one statement claims the inbox rows (sorted by inbox
 * key), the claimed envelopes are decoded, and their changes — reduced per key with the version-merge rule — are
 * written with one upsert per table in (table, key) order, the merchant-order checks and the outcomes with one
 * statement each, all pipelined. An event that cannot be decoded or placed is failed alone (its inbox claim is
 * removed again); a database error aborts the transaction, and the caller retries message by message.
 */
export function applyEnvelopeBatch(
  tx: Tx,
  items: readonly { id: string; envelope: Envelope }[],
  normalizerFor: (envelope: Envelope) => EnvelopeNormalizer,
): Promise<Map<string, BatchOutcome>> {
  return applyEnvelopes(tx, items, normalizerFor, false);
}

async function applyEnvelopes(
  tx: Tx,
  items: readonly { id: string; envelope: Envelope }[],
  normalizerFor: (envelope: Envelope) => EnvelopeNormalizer,
  single: boolean,
): Promise<Map<string, BatchOutcome>> {
  const outcomes = new Map<string, BatchOutcome>();
  const keyOf = ({ envelope }: { envelope: Envelope }) => inboxKey(envelope.provider, envelope.eventId);
  const ordered = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const inboxIds =
    ordered.length > 0
      ? await claimInbox(
          tx,
          ordered.map((item) => item.envelope),
        )
      : new Map();

  const set = new ChangeSet();
  const events: { id: string; inboxId: bigint; event: NormalizedEvent }[] = [];
  const unclaimed: bigint[] = [];
  for (const item of ordered) {
    const key = keyOf(item);
    const inboxId = inboxIds.get(key);
    // The first message of a key takes the claim; a copy in the same batch is a duplicate, as is a known event.
    if (inboxId === undefined) {
      outcomes.set(item.id, { outcome: 'duplicate' });
      continue;
    }
    inboxIds.delete(key);
    try {
      const event = await normalizeChecked(item.envelope, normalizerFor(item.envelope));
      set.add(event.changes, event.eventId);
      events.push({ id: item.id, inboxId, event });
    } catch (error) {
      if (single) throw error;
      unclaimed.push(inboxId);
      outcomes.set(item.id, { outcome: 'failed', error });
    }
  }

  const removed =
    unclaimed.length > 0
      ? tx
          .unsafe(
            `delete from inbox_events where id = any(${arrayLiteral(
              unclaimed.map((id) => id.toString()),
              'int8',
            )})`,
          )
          .execute()
      : undefined;
  const written = set.write(tx);
  const recorded = recordOutcomes(tx, events);
  const [found] = await Promise.all([written, removed, recorded]);
  const anomalies = new Map<string, Anomaly[]>();
  for (const { provider, eventId, kind, providerPaymentId, merchantOrderNo } of found) {
    const key = inboxKey(provider, eventId);
    anomalies.set(key, [...(anomalies.get(key) ?? []), { kind, providerPaymentId, merchantOrderNo }]);
  }
  for (const { id, event } of events) {
    outcomes.set(id, {
      outcome: outcomeOf(event),
      changes: event.changes.length,
      anomalies: anomalies.get(inboxKey(event.provider, event.eventId)) ?? [],
    });
  }
  return outcomes;
}
