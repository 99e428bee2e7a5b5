// The envelope normalizers the consumer and the reconciliation heal path share: Stripe events checked against
// the stage's livemode, WeChat Pay resources decrypted with the configured merchant's APIv3 key.

import { ConfigError, NormalizeError } from '@payhooks/core/errors';
import type { EnvelopeNormalizer } from '@payhooks/core/ledger';
import { normalizeStripeEvent } from '@payhooks/core/providers/stripe';
import {
  type DecryptingMerchant,
  type MerchantRegistry,
  openNotification,
} from '@payhooks/core/providers/wechatpay';
import { type Env, once, optional } from '../config.ts';
import { decryptingMerchantsFromEnv } from './merchants.ts';

export interface StripeNormalizerOptions {
  /** Metadata key of a PaymentIntent that carries the merchant order number. */
  orderMetadataKey: string;
  /** Book only events of this mode; absent: both. */
  expectedLivemode?: boolean;
}

export function stripeNormalizer(options: StripeNormalizerOptions): EnvelopeNormalizer {
  const { orderMetadataKey, expectedLivemode } = options;
  return (envelope) =>
    normalizeStripeEvent(envelope.rawBody, {
      orderMetadataKey,
      // An independent account's own events are booked under its configured id (set by ingress and backfill).
      account: envelope.account,
      ...(expectedLivemode === undefined ? {} : { expectedLivemode }),
    });
}

export function stripeNormalizerOptionsFromEnv(env: Env): StripeNormalizerOptions {
  const orderMetadataKey = optional(env, 'STRIPE_ORDER_METADATA_KEY', 'order_id');
  const mode = env.STRIPE_LIVEMODE;
  if (mode !== undefined && mode !== '' && mode !== 'true' && mode !== 'false') {
    throw new ConfigError('CONFIG_INVALID', `STRIPE_LIVEMODE must be true or false, got "${mode}"`);
  }
  return mode === 'true' || mode === 'false'
    ? { orderMetadataKey, expectedLivemode: mode === 'true' }
    : { orderMetadataKey };
}

export function stripeNormalizerFromEnv(env: Env): EnvelopeNormalizer {
  return stripeNormalizer(stripeNormalizerOptionsFromEnv(env));
}

/**
 * WeChat Pay: envelope.account is the configured merchant id (set by ingress); its APIv3 key decrypts the
 * resource (AES-256-GCM, tag checked) and its mchid/appid must match the decrypted content. Any failure throws,
 * so the message goes back to the queue and, after maxReceiveCount, to the DLQ — never a garbage record.
 */
export function wechatpayNormalizer(
  registry: MerchantRegistry<DecryptingMerchant> | (() => Promise<MerchantRegistry<DecryptingMerchant>>),
): EnvelopeNormalizer {
  return async (envelope) => {
    const merchants = typeof registry === 'function' ? await registry() : registry;
    const merchant = merchants.byId(envelope.account);
    if (!merchant) {
      throw new NormalizeError(
        'WECHATPAY_UNKNOWN_MERCHANT',
        `no WeChat Pay merchant "${envelope.account}" is configured`,
      );
    }
    return openNotification(envelope.rawBody, merchant).event;
  };
}

/** The merchant configuration is loaded on the first WeChat Pay message: without it Stripe events still flow. */
export function wechatpayNormalizerFromEnv(env: Env): EnvelopeNormalizer {
  return wechatpayNormalizer(once(() => decryptingMerchantsFromEnv(env)));
}
