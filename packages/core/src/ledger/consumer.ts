// Applies queue envelopes to the ledger with exactly-once effect: the inbox row (unique provider + event id)
// and the event's projections commit together. Duplicates stop at the inbox insert, before any decoding.
import type { Envelope } from '../envelope.ts';
import type { NormalizedEvent } from './changes.ts';
import type { Tx } from './db.ts';
import { type Anomaly, applyChanges } from './projections.ts';

/** Provider-specific decoding (Stripe: parse; WeChat: decrypt + parse). Throws to send the message back. */
export type EnvelopeNormalizer = (envelope: Envelope) => NormalizedEvent | Promise<NormalizedEvent>;

export type ApplyOutcome =
  | { outcome: 'duplicate' }
  | { outcome: 'applied' | 'stored'; changes: number; anomalies: Anomaly[] };

export async function applyEnvelope(
  tx: Tx,
  envelope: Envelope,
  normalize: EnvelopeNormalizer,
): Promise<ApplyOutcome> {
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
  const inboxId = claimed[0]?.id;
  if (inboxId === undefined) return { outcome: 'duplicate' };

  const event = await normalize(envelope);
  if (event.eventId !== envelope.eventId || event.provider !== envelope.provider) {
    throw new Error(
      `envelope ${envelope.provider}/${envelope.eventId} does not match its body (${event.provider}/${event.eventId})`,
    );
  }
  const { anomalies } = await applyChanges(tx, event.changes, event.eventId);
  const outcome = event.changes.length > 0 ? 'applied' : 'stored';
  await tx.unsafe('update inbox_events set outcome = $2, api_version = $3 where id = $1', [
    inboxId,
    outcome,
    event.apiVersion,
  ]);
  return { outcome, changes: event.changes.length, anomalies };
}
