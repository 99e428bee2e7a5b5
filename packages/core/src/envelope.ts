// The queue message: a versioned envelope around the verified raw body. Ingress builds it from values it has
// just verified and checked (serializeIngressEnvelope, no second validation on the hot path); other producers
// (backfill, sweep, revalidation, consistency resync) go through enqueueEnvelope (encodeEnvelope's schema, then
// the claim check when the envelope exceeds one queue message); the consumer validates every message before
// anything else. On the queue an envelope is v1's text (`rawBody` as a JSON string) or, from ingress, wire version
// 2 (the same fields with the verified JSON body inline); both decode to the same Envelope. The body stays exactly
// as received (WeChat: still encrypted), so the queue never carries payer data in plaintext and the inbox keeps
// the original evidence.
import * as z from 'zod';
import { EnvelopeError } from './errors.ts';
import { type ClaimReference, type EnvelopeQueue, sendEnvelope } from './ingress/claim-check.ts';
import {
  INLINE_BODY_KEY,
  INLINE_BODY_START,
  INLINE_BODY_VERSION,
  type IngressEnvelope,
} from './ingress/envelope.ts';

// The zod-free half ingress imports (cold start); re-exported so the envelope keeps one public module.
export {
  CLAIM_CHECK_PREFIX,
  type ClaimReader,
  type ClaimReference,
  type ClaimStore,
  claimCheckKey,
  type EnvelopeQueue,
  eventsInInbox,
  isClaimMessage,
  resolveClaimCheck,
  resolveClaimMessage,
  sendClaimChecked,
  sendEnvelope,
} from './ingress/claim-check.ts';
export { fitsQueueMessage, MAX_QUEUE_MESSAGE_BYTES, serializeIngressEnvelope } from './ingress/envelope.ts';

export const ENVELOPE_VERSION = 1;

export const envelopeSchema = z.object({
  v: z.literal(ENVELOPE_VERSION),
  provider: z.enum(['stripe', 'wechatpay']),
  eventId: z.string().min(1).max(255),
  eventType: z.string().min(1).max(255),
  /** Stripe connected account (acct_…), or the WeChat merchant id from the configuration; '' if none. */
  account: z.string().max(255),
  occurredAt: z.iso.datetime({ offset: true }),
  receivedAt: z.iso.datetime({ offset: true }),
  /** The verified raw body, decoded from UTF-8 exactly as received. */
  rawBody: z.string().min(2),
  /**
   * How the event arrived: absent for the signed webhooks (and every envelope queued before the field existed),
   * `eventbridge` for Stripe's partner event source (functions' adapters/eventbridge.ts). Dedup ignores it: the
   * inbox key is (provider, event id), so the same event by both paths is applied once.
   */
  source: z.literal('eventbridge').optional(),
});

export type Envelope = z.infer<typeof envelopeSchema>;

// Compile-time proof that ingress's hand-written shape is exactly the schema's (both directions).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const ingressShapeIsEnvelope: Same<IngressEnvelope, Envelope> = true;
void ingressShapeIsEnvelope;

export function encodeEnvelope(envelope: Envelope): string {
  return JSON.stringify(envelopeSchema.parse(envelope));
}

/**
 * How every producer but ingress queues an envelope: checked against the schema (encodeEnvelope), then inline or
 * by claim check (sendEnvelope), so an event of any size up to the store's reaches the consumer.
 */
export async function enqueueEnvelope(
  envelope: Envelope,
  deps: EnvelopeQueue,
): Promise<{ messageId: string; claim?: ClaimReference }> {
  return sendEnvelope(envelope, deps, encodeEnvelope(envelope));
}

const DATETIME = z.regexes.datetime({ offset: true });
const PROVIDERS: readonly unknown[] = envelopeSchema.shape.provider.options;
const isName = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 255;
const isTime = (v: unknown): v is string => typeof v === 'string' && DATETIME.test(v);

/**
 * The consumer's fast path: a hand check at least as strict as envelopeSchema, returning the same fields (unknown
 * ones dropped, as the schema does). Anything it does not accept goes to the schema, which decides and names the
 * fields (tests/envelope.property.test.ts proves it accepts only what the schema accepts, with its values).
 */
export function plainEnvelope(json: unknown): Envelope | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const { v, provider, eventId, eventType, account, occurredAt, receivedAt, rawBody, source } =
    json as Record<string, unknown>;
  if (v !== ENVELOPE_VERSION || !PROVIDERS.includes(provider) || !isName(eventId) || !isName(eventType))
    return undefined;
  if (typeof account !== 'string' || account.length > 255 || !isTime(occurredAt) || !isTime(receivedAt))
    return undefined;
  if (typeof rawBody !== 'string' || rawBody.length < 2) return undefined;
  if (source !== undefined && source !== 'eventbridge') return undefined;
  const envelope: Envelope = {
    v,
    provider: provider as Envelope['provider'],
    eventId,
    eventType,
    account,
    occurredAt,
    receivedAt,
    rawBody,
  };
  if (source !== undefined) envelope.source = source;
  return envelope;
}

export function decodeEnvelope(body: string): Envelope {
  if (body.startsWith(INLINE_BODY_START)) return decodeInlineBody(body);
  const json = parseMessage(body);
  return plainEnvelope(json) ?? schemaEnvelope(json, ENVELOPE_VERSION);
}

function parseMessage(message: string): unknown {
  try {
    return JSON.parse(message);
  } catch (cause) {
    throw new EnvelopeError('ENVELOPE_NOT_JSON', 'queue message is not JSON', { cause });
  }
}

/** The schema's reading of a message's fields, or ENVELOPE_INVALID naming those it refused. */
function schemaEnvelope(json: unknown, wireVersion: number): Envelope {
  const parsed = envelopeSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
  throw new EnvelopeError(
    'ENVELOPE_INVALID',
    `queue message is not a v${wireVersion} envelope (fields: ${where})`,
  );
}

/**
 * An inline-body message (ingress's wire version 2): its fields are parsed from the text before `"body":`, and
 * the body is the exact text between that key and the closing brace, so the stored evidence is the received text
 * without a parse and re-serialisation. No field before the body can contain the key (a quote inside a JSON
 * string is always escaped). The body is parsed as JSON where it is applied, as a v1 rawBody is.
 */
function decodeInlineBody(message: string): Envelope {
  const at = message.indexOf(INLINE_BODY_KEY);
  if (at > 0 && message.endsWith('}')) {
    let head: unknown;
    try {
      head = JSON.parse(`${message.slice(0, at)}}`);
    } catch {
      head = undefined;
    }
    if (typeof head === 'object' && head !== null && !('rawBody' in head)) {
      const rawBody = message.slice(at + INLINE_BODY_KEY.length, -1);
      const envelope = plainEnvelope({ ...head, v: ENVELOPE_VERSION, rawBody });
      if (envelope) return envelope;
    }
  }
  // Not what ingress writes: name what is wrong, as for v1. The schema names any field it refuses; if it refuses
  // none, the body is not where ingress writes it (last, up to the closing brace).
  const { body, ...fields } = parseMessage(message) as Record<string, unknown>;
  const rawBody = body === undefined ? undefined : JSON.stringify(body);
  schemaEnvelope({ ...fields, v: ENVELOPE_VERSION, rawBody }, INLINE_BODY_VERSION);
  throw new EnvelopeError(
    'ENVELOPE_INVALID',
    `queue message is not a v${INLINE_BODY_VERSION} envelope (fields: body)`,
  );
}
