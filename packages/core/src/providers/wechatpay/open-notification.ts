// Consumer side of one stored notification: parse the envelope (the shared parser), decrypt the resource,
// normalize. Ingress already verified the signature; this step needs only the merchant's APIv3 key and identity.
import { NormalizeError } from '../../errors.ts';
import type { NormalizedEvent } from '../../ledger/changes.ts';
import { WECHATPAY_CODES as C } from './constants.ts';
import { decryptResource } from './decrypt.ts';
import type { Merchant } from './merchants.ts';
import { normalizeNotification } from './normalize.ts';
import type { Notification } from './notification.ts';
import { parseNotification } from './parse-notification.ts';

export interface OpenedNotification {
  notification: Notification;
  /** The decrypted resource, JSON-parsed (kept for stored-only event types). */
  resource: unknown;
  event: NormalizedEvent;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * rawBody is the verified body as received. Throws NormalizeError (WECHATPAY_NOTIFICATION_INVALID,
 * WECHATPAY_RESOURCE_NOT_JSON, and those of normalizeNotification) or DecryptError: all permanent for this
 * message, so the consumer lets it go to the DLQ.
 */
export function openNotification(
  rawBody: Uint8Array | string,
  merchant: Pick<Merchant, 'mchid' | 'appid' | 'apiv3Key'>,
): OpenedNotification {
  const { notification } = parseNotification(rawBody, { parser: 'consumer' });
  const plaintext = decryptResource(notification.resource, merchant.apiv3Key);
  let resource: unknown;
  try {
    resource = JSON.parse(utf8.decode(plaintext));
  } catch (cause) {
    throw new NormalizeError(
      C.resourceNotJson,
      `notification ${notification.id}: decrypted resource is not JSON`,
      { cause },
    );
  }
  return { notification, resource, event: normalizeNotification(notification, resource, merchant) };
}
