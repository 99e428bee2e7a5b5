// The queue message: a versioned envelope around the verified raw body. Ingress builds it from values it has
// just verified and checked (serializeIngressEnvelope, no second validation on the hot path); other producers
// (backfill) go through encodeEnvelope's schema; the consumer validates every message before anything else. The body stays exactly as received (WeChat: still encrypted), so the
// queue never carries payer data in plaintext and the inbox keeps the original evidence.
import { z } from 'zod';
import { EnvelopeError } from './errors.ts';

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
});

export type Envelope = z.infer<typeof envelopeSchema>;

export function encodeEnvelope(envelope: Envelope): string {
  return JSON.stringify(envelopeSchema.parse(envelope));
}

const MAX_ID_LENGTH = 255;

/**
 * Serialises an envelope whose fields ingress has just taken from a verified callback (ids checked, dates
 * built from parsed numbers or a schema-checked RFC 3339 string). Only the length bounds that the verifier
 * does not enforce are checked here: an over-long id throws EnvelopeError, as encodeEnvelope's schema would.
 */
export function serializeIngressEnvelope(envelope: Envelope): string {
  if (envelope.eventId.length > MAX_ID_LENGTH || envelope.eventType.length > MAX_ID_LENGTH) {
    throw new EnvelopeError(
      'ENVELOPE_INVALID',
      `event id and type must be at most ${MAX_ID_LENGTH} characters`,
    );
  }
  return JSON.stringify(envelope);
}

export function decodeEnvelope(body: string): Envelope {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new EnvelopeError('ENVELOPE_NOT_JSON', 'queue message is not JSON', { cause });
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new EnvelopeError(
      'ENVELOPE_INVALID',
      `queue message is not a v${ENVELOPE_VERSION} envelope (fields: ${where})`,
    );
  }
  return parsed.data;
}

/** SQS's message size limit (256 KiB for queues created before the 2025 increase; the conservative value). */
export const MAX_QUEUE_MESSAGE_BYTES = 262_144;

/** True when the encoded envelope fits one queue message (JSON escaping makes it larger than the raw body). */
export function fitsQueueMessage(encoded: string, limit = MAX_QUEUE_MESSAGE_BYTES): boolean {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: most envelopes fit without counting their bytes.
  if (encoded.length * 3 <= limit) return true;
  return Buffer.byteLength(encoded, 'utf8') <= limit;
}
