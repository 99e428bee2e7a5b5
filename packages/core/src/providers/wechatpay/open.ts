// Consumer-side pipeline for one stored notification: parse the envelope, decrypt the resource, normalize.
// Ingress already verified the signature; this step needs only the merchant's APIv3 key and identity.
import { NormalizeError } from '../../errors.ts';
import type { NormalizedEvent } from '../../ledger/changes.ts';
import { WECHATPAY_CODES as C } from './constants.ts';
import { decryptResource } from './decrypt.ts';
import { toBytes } from './encoding.ts';
import type { Merchant } from './merchants.ts';
import { normalizeNotification } from './normalize.ts';
import { type Notification, notificationSchema } from './notification.ts';

export interface OpenedNotification {
  notification: Notification;
  /** The decrypted resource, JSON-parsed (kept for stored-only event types). */
  resource: unknown;
  event: NormalizedEvent;
}

function parseJson(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
}

/**
 * rawBody is the verified body as received. Throws NormalizeError (WECHATPAY_NOTIFICATION_INVALID,
 * WECHATPAY_RESOURCE_NOT_JSON, and those of normalizeNotification) or DecryptError: all permanent for this
 * message, so the consumer lets it go to the DLQ.
 */
export function openNotification(
  rawBody: Uint8Array | string,
  merchant: Pick<Merchant, 'mchid' | 'appid' | 'apiv3Key'>,
): OpenedNotification {
  let outer: unknown;
  try {
    outer = parseJson(toBytes(rawBody));
  } catch (cause) {
    throw new NormalizeError(C.notificationInvalid, 'notification body is not UTF-8 JSON', { cause });
  }
  const parsed = notificationSchema.safeParse(outer);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))].slice(
      0,
      5,
    );
    throw new NormalizeError(
      C.notificationInvalid,
      `not a notification envelope (check ${fields.join(', ')})`,
    );
  }
  const notification = parsed.data;
  const plaintext = decryptResource(notification.resource, merchant.apiv3Key);
  let resource: unknown;
  try {
    resource = parseJson(plaintext);
  } catch (cause) {
    throw new NormalizeError(
      C.resourceNotJson,
      `notification ${notification.id}: decrypted resource is not JSON`,
      {
        cause,
      },
    );
  }
  return { notification, resource, event: normalizeNotification(notification, resource, merchant) };
}
