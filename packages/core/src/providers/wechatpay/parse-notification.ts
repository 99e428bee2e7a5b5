// The one parser of a WeChat Pay notification envelope (the outer JSON), shared by ingress and the consumer:
// size bound, strict UTF-8, JSON, the documented shape (checked without a schema library: notification-envelope.ts). Each side maps a failure its own way: ingress answers
// the provider a 4xx (VerificationError), the consumer fails the message (NormalizeError) so it goes back to
// the queue and on to the dead-letter queue.
import { NormalizeError, VerificationError } from '../../errors.ts';
import { receivedByteLength } from '../../received-body.ts';
import { WECHATPAY_CODES as C } from './constants.ts';
import { isBytes } from './encoding.ts';
import type { Notification } from './notification.ts';
import { checkNotificationEnvelope } from './notification-envelope.ts';

/**
 * Matches MAX_BODY_BYTES' default (functions/wiring/ingress.ts, 2 MiB): the one size refusal of both providers;
 * anything below it is queued, by claim check when the envelope exceeds a queue message.
 */
export const DEFAULT_MAX_BODY_BYTES = 2_097_152;

/** Who parses: ingress (answers the provider) or the consumer (fails the queue message). */
export type NotificationParser = 'ingress' | 'consumer';

export interface ParsedNotification {
  notification: Notification;
  /** The body as text: for bytes, their strict UTF-8 decoding, so it is the received bytes exactly. */
  text: string;
}

/**
 * Cheap bound to apply before verifying, so an oversized body costs no hashing. 413 on failure. A string is the
 * text standing for its UTF-8 encoding (IngressRequest.body); its bytes are counted only when it could be over.
 */
export function assertBodySize(rawBody: Uint8Array | string, maxBytes = DEFAULT_MAX_BODY_BYTES): void {
  let bytes: number;
  if (typeof rawBody === 'string')
    bytes = rawBody.length * 3 > maxBytes ? receivedByteLength(rawBody) : rawBody.length;
  else if (isBytes(rawBody)) bytes = rawBody.length;
  else throw new VerificationError(C.bodyInvalid, 'rawBody must be bytes', 400);
  if (bytes > maxBytes) {
    throw new VerificationError(C.bodyTooLarge, `body is ${bytes} bytes, more than ${maxBytes}`, 413);
  }
}

// fatal: invalid UTF-8 is rejected rather than replaced; ignoreBOM keeps a byte-order mark (WeChat never sends
// one) so it fails JSON.parse instead of being dropped: what we parse and store is what was signed.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function failNotJson(parser: NotificationParser, cause: unknown): never {
  if (parser === 'ingress') throw new VerificationError(C.bodyNotJson, 'body is not UTF-8 JSON', 400);
  throw new NormalizeError(C.notificationInvalid, 'notification body is not UTF-8 JSON', { cause });
}

function failShape(parser: NotificationParser, fields: string): never {
  if (parser === 'ingress') {
    throw new VerificationError(C.bodyInvalid, `body is not a notification envelope (check ${fields})`, 400);
  }
  throw new NormalizeError(C.notificationInvalid, `not a notification envelope (check ${fields})`);
}

/**
 * Parses a notification body (the received bytes, or the envelope's rawBody text after the queue) once:
 * decode, JSON.parse, schema. `maxBytes` bounds bytes first (ingress has usually checked it before verifying).
 * Ingress failures: VerificationError BODY_TOO_LARGE (413), BODY_NOT_JSON (400), BODY_INVALID (400).
 * Consumer failures: NormalizeError WECHATPAY_NOTIFICATION_INVALID.
 */
export function parseNotification(
  rawBody: Uint8Array | string,
  options: { parser: NotificationParser; maxBytes?: number },
): ParsedNotification {
  const { parser } = options;
  let text: string;
  let value: unknown;
  try {
    if (typeof rawBody === 'string') {
      text = rawBody;
    } else {
      if (options.maxBytes !== undefined) assertBodySize(rawBody, options.maxBytes);
      text = strictUtf8.decode(rawBody);
    }
    value = JSON.parse(text);
  } catch (cause) {
    if (cause instanceof VerificationError) throw cause;
    failNotJson(parser, cause);
  }
  const checked = checkNotificationEnvelope(value);
  if (!checked.ok) failShape(parser, checked.fields.slice(0, 5).join(', '));
  return { notification: checked.notification, text };
}

/** Ingress form kept for callers of the former body.ts: bounds the size (default 2 MiB) and parses. */
export function parseNotificationBody(
  rawBody: Uint8Array,
  options: { maxBytes?: number } = {},
): Notification {
  return parseNotification(rawBody, {
    parser: 'ingress',
    maxBytes: options.maxBytes ?? DEFAULT_MAX_BODY_BYTES,
  }).notification;
}
