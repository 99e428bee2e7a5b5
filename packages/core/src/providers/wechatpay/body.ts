// Ingress checks on the notification body: size bound, UTF-8 JSON, and the documented envelope shape.
// Failures are VerificationErrors, so ingress answers them like any other rejected callback.
import { VerificationError } from '../../errors.ts';
import { WECHATPAY_CODES as C } from './constants.ts';
import { isBytes } from './encoding.ts';
import { type Notification, notificationSchema } from './notification.ts';

/** Matches MAX_BODY_BYTES' default in docs/architecture.md. */
export const DEFAULT_MAX_BODY_BYTES = 196_608;

/** Cheap bound to apply before verifying, so an oversized body costs no hashing. 413 on failure. */
export function assertBodySize(rawBody: Uint8Array, maxBytes = DEFAULT_MAX_BODY_BYTES): void {
  if (!isBytes(rawBody)) throw new VerificationError(C.bodyInvalid, 'rawBody must be bytes', 400);
  if (rawBody.length > maxBytes) {
    throw new VerificationError(
      C.bodyTooLarge,
      `body is ${rawBody.length} bytes, more than ${maxBytes}`,
      413,
    );
  }
}

/**
 * Parses the (already verified) raw body as a notification envelope. Returns the parsed envelope; the raw
 * bytes remain the evidence to store. Throws VerificationError BODY_TOO_LARGE (413), BODY_NOT_JSON (400) or
 * BODY_INVALID (400).
 */
export function parseNotificationBody(
  rawBody: Uint8Array,
  options: { maxBytes?: number } = {},
): Notification {
  assertBodySize(rawBody, options.maxBytes);
  let value: unknown;
  try {
    // fatal: invalid UTF-8 is rejected rather than replaced; ignoreBOM keeps a byte-order mark (WeChat never
    // sends one) so it fails JSON.parse instead of being dropped: what we parse and store is what was signed.
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(rawBody));
  } catch {
    throw new VerificationError(C.bodyNotJson, 'body is not UTF-8 JSON', 400);
  }
  const parsed = notificationSchema.safeParse(value);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))].slice(
      0,
      5,
    );
    throw new VerificationError(
      C.bodyInvalid,
      `body is not a notification envelope (check ${fields.join(', ')})`,
      400,
    );
  }
  return parsed.data;
}
