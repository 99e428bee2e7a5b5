// What ingress needs of the envelope, without zod: the webhooks' import path stops here (cold start,
// docs/decisions.md "Cold start"). The schema, encodeEnvelope and decodeEnvelope stay in ../envelope.ts, which
// re-exports these and checks at compile time that IngressEnvelope is its Envelope.
import { EnvelopeError } from '../errors.ts';

/** The queue message's fields (envelope v1), as ingress builds them from a verified callback. */
export interface IngressEnvelope {
  v: 1;
  provider: 'stripe' | 'wechatpay';
  eventId: string;
  eventType: string;
  /** Stripe connected account (acct_…), or the WeChat merchant id from the configuration; '' if none. */
  account: string;
  occurredAt: string;
  receivedAt: string;
  /** The verified raw body, decoded from UTF-8 exactly as received. */
  rawBody: string;
}

const MAX_ID_LENGTH = 255;

/**
 * The queue text of envelope v1 as ingress sends it (wire version 2): v1's fields, with the verified body inline
 * as the JSON it is (`"body":<raw text>`, last) instead of `"rawBody"` as an escaped string. Ingress saves the
 * body's escaping and the consumer its unescaping; the message stays one JSON document (docs/decisions.md
 * "Ingress envelopes carry the body inline").
 */
export const INLINE_BODY_VERSION = 2;
/** How every inline-body message starts, and the key that precedes its body (no earlier field can hold it). */
export const INLINE_BODY_START = `{"v":${INLINE_BODY_VERSION},`;
export const INLINE_BODY_KEY = ',"body":';

/**
 * Serialises an envelope whose fields ingress has just taken from a verified callback (ids checked, dates
 * built from parsed numbers or a schema-checked RFC 3339 string) and whose rawBody the verifier parsed as JSON,
 * in the inline-body form. Only the length bounds that the verifier does not enforce are checked here: an
 * over-long id throws EnvelopeError, as encodeEnvelope's schema would.
 */
export function serializeIngressEnvelope(envelope: IngressEnvelope): string {
  if (envelope.eventId.length > MAX_ID_LENGTH || envelope.eventType.length > MAX_ID_LENGTH) {
    throw new EnvelopeError(
      'ENVELOPE_INVALID',
      `event id and type must be at most ${MAX_ID_LENGTH} characters`,
    );
  }
  // Field by field: no property walk of the object, each short string escaped once, the body not at all
  // (tests/ingress-envelope-text.property.test.ts checks the text against JSON.parse and the decoder).
  return `${INLINE_BODY_START}"provider":${JSON.stringify(envelope.provider)},"eventId":${JSON.stringify(envelope.eventId)},"eventType":${JSON.stringify(envelope.eventType)},"account":${JSON.stringify(envelope.account)},"occurredAt":${JSON.stringify(envelope.occurredAt)},"receivedAt":${JSON.stringify(envelope.receivedAt)}${INLINE_BODY_KEY}${envelope.rawBody}}`;
}

/**
 * The queues' maximum message size: SQS's limit since August 2025 (1 MiB), which the stacks set explicitly on
 * both queues (stacks/Queue.ts) and the local runtime on its emulator queues. A larger envelope goes by claim check.
 */
export const MAX_QUEUE_MESSAGE_BYTES = 1_048_576;

/** True when the encoded envelope fits one queue message (JSON escaping makes it larger than the raw body). */
export function fitsQueueMessage(encoded: string, limit = MAX_QUEUE_MESSAGE_BYTES): boolean {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: most envelopes fit without counting their bytes.
  if (encoded.length * 3 <= limit) return true;
  return Buffer.byteLength(encoded, 'utf8') <= limit;
}
