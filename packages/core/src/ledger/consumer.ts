// Applies queue envelopes to the ledger with exactly-once effect: the inbox row (unique provider + event id)
// and the event's projections commit together. Duplicates stop at the inbox insert, before any decoding.
import type { Envelope } from '../envelope.ts';
import type { LedgerChange, NormalizedEvent } from './changes.ts';
import type { Tx } from './db.ts';
import { type Anomaly, applyChanges } from './projections.ts';

/** Provider-specific decoding (Stripe: parse; WeChat: decrypt + parse). Throws to send the message back. */
export type EnvelopeNormalizer = (envelope: Envelope) => NormalizedEvent | Promise<NormalizedEvent>;

export type ApplyOutcome =
  | { outcome: 'duplicate' }
  | { outcome: 'applied' | 'stored'; changes: number; anomalies: Anomaly[] };

async function claimInbox(tx: Tx, envelope: Envelope): Promise<bigint | undefined> {
  const claimed = await tx.unsafe(
    `insert into inbox_events (provider, event_id, event_type, account, occurred_at, received_at, outcome, raw_payload)
     values ($1, $2, $3, $4, $5, $6, 'stored', $7) on conflict (provider, event_id) do nothing returning id`,
    [
      envelope.provider,
      envelope.eventId,
      envelope.eventType,
      envelope.account,
      envelope.occurredAt,
      envelope.receivedAt,
      envelope.rawBody,
    ],
  );
  return (claimed[0] as { id: bigint } | undefined)?.id;
}

async function normalizeChecked(envelope: Envelope, normalize: EnvelopeNormalizer): Promise<NormalizedEvent> {
  const event = await normalize(envelope);
  if (event.eventId !== envelope.eventId || event.provider !== envelope.provider) {
    throw new Error(
      `envelope ${envelope.provider}/${envelope.eventId} does not match its body (${event.provider}/${event.eventId})`,
    );
  }
  return event;
}

async function recordOutcome(tx: Tx, inboxId: bigint, event: NormalizedEvent): Promise<'applied' | 'stored'> {
  const outcome = event.changes.length > 0 ? 'applied' : 'stored';
  await tx.unsafe('update inbox_events set outcome = $2, api_version = $3 where id = $1', [
    inboxId,
    outcome,
    event.apiVersion,
  ]);
  return outcome;
}

export async function applyEnvelope(
  tx: Tx,
  envelope: Envelope,
  normalize: EnvelopeNormalizer,
): Promise<ApplyOutcome> {
  const inboxId = await claimInbox(tx, envelope);
  if (inboxId === undefined) return { outcome: 'duplicate' };
  const event = await normalizeChecked(envelope, normalize);
  const { anomalies } = await applyChanges(tx, event.changes, event.eventId);
  const outcome = await recordOutcome(tx, inboxId, event);
  return { outcome, changes: event.changes.length, anomalies };
}

export type BatchOutcome = ApplyOutcome | { outcome: 'failed'; error: unknown };

/** Table order, then key: every batch takes its row locks in this one global order, so batches never deadlock. */
function lockKey(change: LedgerChange): string {
  switch (change.kind) {
    case 'object':
      return `1|${change.provider}|${change.objectType}|${change.objectId}`;
    case 'payment':
      return `2|${change.provider}|${change.providerPaymentId}`;
    case 'refund':
      return `3|${change.provider}|${change.providerRefundId}`;
    case 'dispute':
      return `4|${change.provider}|${change.providerDisputeId}`;
  }
}

/**
 * Applies several envelopes in one transaction, for throughput: inbox rows are claimed in key order, events are
 * decoded, and all their changes are applied sorted by lock key (projections keep the highest version, so the
 * order of application does not change the result). An event that cannot be decoded is failed alone (its inbox
 * row is removed again); a database error aborts the transaction, and the caller retries message by message.
 */
export async function applyEnvelopeBatch(
  tx: Tx,
  items: readonly { id: string; envelope: Envelope }[],
  normalizerFor: (envelope: Envelope) => EnvelopeNormalizer,
): Promise<Map<string, BatchOutcome>> {
  const outcomes = new Map<string, BatchOutcome>();
  const inboxKey = (e: Envelope) => `${e.provider}\u0000${e.eventId}`;
  const ordered = [...items].sort((a, b) => (inboxKey(a.envelope) < inboxKey(b.envelope) ? -1 : 1));
  const claimed: { id: string; inboxId: bigint; envelope: Envelope }[] = [];
  // Issued together, the statements are pipelined on the one connection and run in the order sent.
  const inboxIds = await Promise.all(ordered.map(({ envelope }) => claimInbox(tx, envelope)));
  ordered.forEach(({ id, envelope }, i) => {
    const inboxId = inboxIds[i];
    if (inboxId === undefined) outcomes.set(id, { outcome: 'duplicate' });
    else claimed.push({ id, inboxId, envelope });
  });

  const events: { id: string; inboxId: bigint; event: NormalizedEvent }[] = [];
  for (const { id, inboxId, envelope } of claimed) {
    try {
      events.push({ id, inboxId, event: await normalizeChecked(envelope, normalizerFor(envelope)) });
    } catch (error) {
      await tx.unsafe('delete from inbox_events where id = $1', [inboxId]);
      outcomes.set(id, { outcome: 'failed', error });
    }
  }

  const work = events.flatMap(({ id, event }) =>
    event.changes.map((change) => ({ id, change, eventId: event.eventId })),
  );
  work.sort((a, b) => {
    const ka = lockKey(a.change);
    const kb = lockKey(b.change);
    return ka < kb ? -1 : ka > kb ? 1 : a.eventId < b.eventId ? -1 : 1;
  });
  // Pipelined in lock order. A change's follow-up statements (the merchant-order check) are sent later, but they
  // only touch rows keyed by the change's own object, whose lock the batch already holds: no cycle is possible.
  const results = await Promise.all(work.map(({ change, eventId }) => applyChanges(tx, [change], eventId)));
  const anomalies = new Map<string, Anomaly[]>();
  work.forEach(({ id }, i) => {
    const found = results[i]?.anomalies ?? [];
    if (found.length > 0) anomalies.set(id, [...(anomalies.get(id) ?? []), ...found]);
  });
  const recorded = await Promise.all(events.map(({ inboxId, event }) => recordOutcome(tx, inboxId, event)));
  events.forEach(({ id, event }, i) => {
    outcomes.set(id, {
      outcome: recorded[i]!,
      changes: event.changes.length,
      anomalies: anomalies.get(id) ?? [],
    });
  });
  return outcomes;
}
