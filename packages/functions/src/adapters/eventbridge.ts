// Stripe over Amazon EventBridge: the partner event bus's rule puts the EventBridge event itself on the ingest
// queue (no ingress function, no signature: only that rule may send, by the queue policy). This adapter turns
// such a message into the same envelope the webhook builds — same provider, event id, type, account and times —
// marked `source: 'eventbridge'`, so the consumer, the inbox dedup (provider, event id) and the projections treat
// both paths alike. Any other message is an envelope and goes to core's decodeEnvelope unchanged.
import { decodeEnvelope, type Envelope, encodeEnvelope } from '@payhooks/core/envelope';
import { EnvelopeError } from '@payhooks/core/errors';

/** Partner event sources Stripe creates are named `aws.partner/stripe.com/<event destination id>`. */
export const STRIPE_PARTNER_SOURCE_PREFIX = 'aws.partner/stripe.com/';

/** The fields of an EventBridge event the adapter reads (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html). */
interface EventBridgeEvent {
  id: string;
  source: string;
  'detail-type': string;
  time: string;
  detail: unknown;
}

const ENVELOPE_START = '{"v":';

function reject(message: string): never {
  throw new EnvelopeError('EVENTBRIDGE_EVENT_INVALID', message);
}

function isEventBridgeEvent(value: unknown): value is EventBridgeEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.source === 'string' && typeof v['detail-type'] === 'string' && 'detail' in v;
}

/** The envelope of a Stripe event that arrived through the partner event bus (the detail is the Stripe event). */
export function envelopeFromStripeEventBridge(event: EventBridgeEvent): Envelope {
  if (!event.source.startsWith(STRIPE_PARTNER_SOURCE_PREFIX))
    reject('EventBridge event is not from a Stripe partner event source');
  const detail = event.detail;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
    reject('EventBridge detail is not a Stripe event object');
  const e = detail as Record<string, unknown>;
  if (typeof e.id !== 'string' || !/^evt_[A-Za-z0-9_]{1,250}$/.test(e.id))
    reject('Stripe event id missing or not evt_…');
  if (typeof e.type !== 'string' || e.type.length === 0) reject('Stripe event type missing');
  if (typeof e.created !== 'number' || !Number.isSafeInteger(e.created) || e.created < 0)
    reject('Stripe event created is not a unix timestamp');
  if (e.account !== undefined && e.account !== null && typeof e.account !== 'string')
    reject('Stripe event account is not a string');
  const received = Date.parse(event.time);
  // encodeEnvelope validates against the envelope schema (lengths, acct_…, dates), as for backfill.
  const encoded = encodeEnvelope({
    v: 1,
    provider: 'stripe',
    eventId: e.id,
    eventType: e.type,
    account: typeof e.account === 'string' ? e.account : '',
    occurredAt: new Date(e.created * 1000).toISOString(),
    receivedAt: new Date(Number.isFinite(received) ? received : Date.now()).toISOString(),
    // Nothing was signed on this path, so there are no original bytes to keep: the Stripe event as delivered.
    rawBody: JSON.stringify(detail),
    source: 'eventbridge',
  });
  return JSON.parse(encoded) as Envelope;
}

/** A queue message of either path: an envelope (webhooks, backfill, sweep) or a Stripe EventBridge event. */
export function decodeQueueMessage(body: string): Envelope {
  // Every producer of envelopes serialises `v` first: the common case never parses twice.
  if (body.startsWith(ENVELOPE_START)) return decodeEnvelope(body);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return decodeEnvelope(body); // the envelope decoder says "not JSON" in its own words
  }
  return isEventBridgeEvent(json) ? envelopeFromStripeEventBridge(json) : decodeEnvelope(body);
}
