// The WeChat Pay webhook's per-container setup: the merchants' verification keys only (parsed once), the queue,
// logger and metrics — built on the first invocation, never on the request path. Only WeChat Pay's code is on
// this import path (cold start).
import { receiveWechatpayCallback } from '@payhooks/core/ingress/wechatpay';
import { createLogger, errorFields } from '@payhooks/core/logger';
import { systemClock } from '@payhooks/core/ports';
import { DEFAULT_TOLERANCE_SECONDS } from '@payhooks/core/providers/wechatpay';
import { toApiResult, toIngressRequest } from '../adapters/apigw.ts';
import { metricsFor } from '../adapters/metrics.ts';
import { sqsSenderFromEnv } from '../adapters/sqs-send.ts';
import { type Env, integer, once } from '../config.ts';
import { claimStoreFromEnv } from './claim-check.ts';
import { DEFAULT_MAX_BODY_BYTES, type HttpHandler } from './ingress.ts';
import { verifyingMerchantsFromEnv } from './merchants.ts';
import { refreshingValue } from './refreshing.ts';

/** Seconds between background re-reads of the verify parts (rotated platform certificates arrive this way). */
export const DEFAULT_VERIFY_REFRESH_SECONDS = 300;

export function createWechatpayWebhookHandler(
  env: Env,
  overrides: Partial<Parameters<typeof receiveWechatpayCallback>[2]> = {},
): HttpHandler {
  return createWechatpayWebhook(env, overrides).handler;
}

/** The handler and its verify-part cache (tests await `verificationKeys.settled()` after a rotation). */
export function createWechatpayWebhook(
  env: Env,
  overrides: Partial<Parameters<typeof receiveWechatpayCallback>[2]> = {},
) {
  const logger = overrides.logger ?? createLogger({ name: 'wechatpay-webhook' });
  const verificationKeys = refreshingValue({
    load: () => verifyingMerchantsFromEnv(env),
    ttlMs: integer(env, 'WECHATPAY_VERIFY_REFRESH_SECONDS', DEFAULT_VERIFY_REFRESH_SECONDS) * 1000,
    clock: overrides.clock ?? systemClock,
    onReloadError: (error) =>
      logger.warn('wechatpay verify parts not re-read; keeping the current keys', errorFields(error)),
  });
  const setup = once(async () => ({
    config: {
      merchants: await verificationKeys.get(),
      toleranceSeconds: DEFAULT_TOLERANCE_SECONDS, // the protocol's ±300 s; not configurable
      maxBodyBytes: integer(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES),
    },
    deps: {
      queue: sqsSenderFromEnv(env),
      claims: claimStoreFromEnv(env),
      clock: systemClock,
      logger,
      metrics: metricsFor('wechatpay-webhook', env),
      ...overrides,
    },
  }));
  const handler: HttpHandler = async (event) => {
    const { config, deps } = await setup();
    // Current keys at once; a stale cache re-reads in the background (never on this request's path).
    config.merchants = verificationKeys.current() ?? config.merchants;
    return toApiResult(await receiveWechatpayCallback(toIngressRequest(event), config, deps));
  };
  return { handler, verificationKeys };
}
