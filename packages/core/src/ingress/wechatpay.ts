// WeChat Pay ingress: size bound → pick the merchant → verify signature and freshness (once) → parse the
// notification (once: one UTF-8 decode, one JSON.parse) → enqueue the raw (still encrypted) body → 204. Nothing is acknowledged before the queue has it (design rule 1).
// Failures answer `{"code":"FAIL","message":…}` with the VerificationError's status (400 malformed, 401 not
// authentic or not fresh, 413 too large); WeChat retries any non-2xx. Probes (WECHATPAY/SIGNTEST/) are failures
// counted as CallbackProbe, never as rejections, so they page nobody. The body is never decrypted here: no payer
// data reaches the queue or the logs in plaintext.

import { VerificationError } from '../errors.ts';
import { isoTime } from '../iso-time.ts';
import { errorFields } from '../logger.ts';
import { HEADERS, WECHATPAY_CODES } from '../providers/wechatpay/constants.ts';
import {
  type MerchantRegistry,
  normalizeSerial,
  type VerifyingMerchant,
} from '../providers/wechatpay/merchants.ts';
import {
  assertBodySize,
  type ParsedNotification,
  parseNotification,
} from '../providers/wechatpay/parse-notification.ts';
import { verifyNotification } from '../providers/wechatpay/verify.ts';
import { receivedBody } from '../received-body.ts';
import { sendEnvelope } from './claim-check.ts';
import { fitsQueueMessage, type IngressEnvelope, serializeIngressEnvelope } from './envelope.ts';
import type { IngressDeps, IngressRequest, IngressResponse } from './types.ts';

export const WECHATPAY_INGRESS_CODES = {
  // Logged only: the {merchant} path names no configured merchant; the caller gets the unknown-serial answer.
  unknownMerchant: 'WECHATPAY_UNKNOWN_MERCHANT',
  ambiguousMerchant: 'WECHATPAY_MERCHANT_AMBIGUOUS', // 400: bare path, serial configured for several merchants
} as const;

export interface WechatpayIngressConfig {
  merchants: MerchantRegistry<VerifyingMerchant>;
  toleranceSeconds: number;
  maxBodyBytes: number;
}

/** Per-container lookup for the bare path: normalised serial → the merchants that list it. */
export interface WechatpayRouting {
  /** `{merchant}` path: the configuration id or the mchid (docs/deploy.md tells operators to use the mchid). */
  forPath(id: string): VerifyingMerchant | undefined;
  /** Bare path: the only merchant, or the one whose verificationKeys hold `serial`. */
  forSerial(serial: string | undefined): VerifyingMerchant | 'ambiguous' | undefined;
}

const routingCache = new WeakMap<MerchantRegistry<VerifyingMerchant>, WechatpayRouting>();

export function wechatpayRouting(registry: MerchantRegistry<VerifyingMerchant>): WechatpayRouting {
  const cached = routingCache.get(registry);
  if (cached) return cached;
  const bySerial = new Map<string, VerifyingMerchant[]>();
  for (const merchant of registry.merchants) {
    for (const serial of merchant.verificationKeys.keys()) {
      bySerial.set(serial, [...(bySerial.get(serial) ?? []), merchant]);
    }
  }
  const routing: WechatpayRouting = {
    forPath: (id) => registry.forRoute(id),
    forSerial(serial) {
      const only = registry.forRoute(undefined);
      if (only) return only;
      if (!serial) return undefined;
      const found = bySerial.get(normalizeSerial(serial)) ?? [];
      if (found.length > 1) return 'ambiguous';
      return found[0];
    },
  };
  routingCache.set(registry, routing);
  return routing;
}

const fail = (status: number, message: string): IngressResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ code: 'FAIL', message }),
});

const EMPTY_KEYS: VerifyingMerchant['verificationKeys'] = new Map();

/** Which merchant's keys verify this callback, and whether the path named a merchant that is not configured. */
interface MerchantSelection {
  merchant: VerifyingMerchant | undefined;
  /** The `{merchant}` path segment names no configured merchant (logged, never told to the caller). */
  unknownPath: boolean;
}

/**
 * The merchant whose keys verify this callback: the one named by the path, else the one listing the serial.
 * undefined when no merchant lists the serial, or when the path names no configured merchant: verifying against
 * no keys then reports the first problem in the documented order (missing header, signature type, probe,
 * timestamp, then unknown serial), so an unknown merchant id is answered exactly as a known merchant's callback
 * with a serial it does not list — the answer does not tell which merchant ids exist.
 */
function selectMerchant(request: IngressRequest, routing: WechatpayRouting): MerchantSelection {
  const pathMerchant = request.pathParameters.merchant;
  if (pathMerchant !== undefined && pathMerchant !== '') {
    const merchant = routing.forPath(pathMerchant);
    return { merchant, unknownPath: merchant === undefined };
  }
  const candidate = routing.forSerial(request.headers[HEADERS.serial]);
  if (candidate === 'ambiguous') {
    throw new VerificationError(
      WECHATPAY_INGRESS_CODES.ambiguousMerchant,
      'several merchants list this wechatpay-serial: use /webhooks/wechatpay/{merchant}',
      400,
    );
  }
  return { merchant: candidate, unknownPath: false };
}

export async function receiveWechatpayCallback(
  request: IngressRequest,
  config: WechatpayIngressConfig,
  deps: IngressDeps,
): Promise<IngressResponse> {
  const { logger, metrics, clock } = deps;
  const receivedAt = clock.now();
  let merchant: VerifyingMerchant | undefined;
  let unknownPath = false;
  let verified: ReturnType<typeof verifyNotification>;
  let parsed: ParsedNotification;
  let body: Uint8Array | string = request.body;
  try {
    assertBodySize(body, config.maxBodyBytes);
    // Text stays text when it is exactly what its UTF-8 encoding decodes to: no encode of the body alone, and the
    // parse takes it as the body's text without a strict decode.
    body = receivedBody(body);
    ({ merchant, unknownPath } = selectMerchant(request, wechatpayRouting(config.merchants)));
    verified = verifyNotification({
      rawBody: body,
      headers: request.headers,
      verificationKeys: merchant?.verificationKeys ?? EMPTY_KEYS,
      now: receivedAt,
      toleranceSeconds: config.toleranceSeconds,
    });
    // Unreachable in practice (no keys verify nothing), kept so a merchant is never undefined past here.
    if (!merchant) {
      throw new VerificationError(
        WECHATPAY_CODES.unknownSerial,
        'no verification key configured for this serial',
        401,
      );
    }
    parsed = parseNotification(body, { parser: 'ingress' });
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    const fields = {
      provider: 'wechatpay',
      reason: error.code,
      merchant: merchant?.id,
      // The operator's log may say what the caller is not told (the segment is an id, never a secret).
      ...(unknownPath
        ? {
            unknownMerchantPath: request.pathParameters.merchant,
            routing: WECHATPAY_INGRESS_CODES.unknownMerchant,
          }
        : {}),
      requestId: request.requestId,
    };
    if (error.code === WECHATPAY_CODES.signtest) {
      metrics.count('CallbackProbe', 1, { provider: 'wechatpay' });
      logger.info('wechatpay signature probe answered as failure', fields);
    } else {
      metrics.count('CallbackRejected', 1, { provider: 'wechatpay', reason: error.code });
      logger.warn('wechatpay callback rejected', { ...fields, errorMessage: error.message });
    }
    return fail(error.status, error.message);
  }

  const { notification } = parsed;
  // Ids and types only: the resource stays encrypted and is never logged.
  // One object for the callback's log line(s), built once: messageId is filled in after the send.
  const fields: Record<string, string> = {
    provider: 'wechatpay',
    eventId: notification.id,
    eventType: notification.event_type,
    merchant: merchant.id,
    serial: verified.serial,
    requestId: request.requestId,
  };
  const envelope: IngressEnvelope = {
    v: 1,
    provider: 'wechatpay',
    eventId: notification.id,
    eventType: notification.event_type,
    account: merchant.id,
    occurredAt: notification.create_time,
    receivedAt: isoTime(receivedAt.getTime()),
    // parseNotification decoded bytes as strict UTF-8, and text is well-formed: this is the received body exactly.
    rawBody: parsed.text,
  };
  const message = serializeIngressEnvelope(envelope);
  const claimCheck = !fitsQueueMessage(message);
  if (claimCheck && !deps.claims) {
    // It would fail on every retry: say so (4xx) instead of a 5xx that only postpones it.
    metrics.count('CallbackRejected', 1, { provider: 'wechatpay', reason: 'ENVELOPE_TOO_LARGE' });
    logger.warn('wechatpay callback too large for a queue message', fields);
    return fail(413, 'notification too large to queue');
  }
  try {
    const { messageId } = await sendEnvelope(envelope, deps, message);
    if (claimCheck) metrics.count('CallbackClaimChecked', 1, { provider: 'wechatpay' });
    metrics.count('CallbackAccepted', 1, { provider: 'wechatpay' });
    fields.messageId = messageId;
    logger.info('wechatpay callback enqueued', fields);
    return { status: 204, headers: {}, body: '' };
  } catch (error) {
    metrics.count('CallbackEnqueueFailed', 1, { provider: 'wechatpay' });
    logger.error('wechatpay callback could not be enqueued; answering 5xx so WeChat Pay retries', {
      ...fields,
      ...errorFields(error),
    });
    return fail(503, 'temporarily unable to accept the notification; retry');
  }
}
