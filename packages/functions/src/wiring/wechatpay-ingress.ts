// The WeChat Pay webhook's per-container setup: the merchants' verification keys only (parsed once), the queue,
// logger and metrics — built on the first invocation, never on the request path. Only WeChat Pay's code is on
// this import path (cold start).
import { receiveWechatpayCallback } from '@payhooks/core/ingress/wechatpay';
import { createLogger } from '@payhooks/core/logger';
import { systemClock } from '@payhooks/core/ports';
import { DEFAULT_TOLERANCE_SECONDS } from '@payhooks/core/providers/wechatpay';
import { toApiResult, toIngressRequest } from '../adapters/apigw.ts';
import { metricsFor } from '../adapters/metrics.ts';
import { sqsSenderFromEnv } from '../adapters/sqs-send.ts';
import { type Env, integer, once } from '../config.ts';
import { DEFAULT_MAX_BODY_BYTES, type HttpHandler } from './ingress.ts';
import { verifyingMerchantsFromEnv } from './merchants.ts';

export function createWechatpayWebhookHandler(
  env: Env,
  overrides: Partial<Parameters<typeof receiveWechatpayCallback>[2]> = {},
): HttpHandler {
  const setup = once(async () => ({
    config: {
      merchants: await verifyingMerchantsFromEnv(env),
      toleranceSeconds: DEFAULT_TOLERANCE_SECONDS, // the protocol's ±300 s; not configurable
      maxBodyBytes: integer(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES),
    },
    deps: {
      queue: sqsSenderFromEnv(env),
      clock: systemClock,
      logger: createLogger({ name: 'wechatpay-webhook' }),
      metrics: metricsFor('wechatpay-webhook', env),
      ...overrides,
    },
  }));
  return async (event) => {
    const { config, deps } = await setup();
    return toApiResult(await receiveWechatpayCallback(toIngressRequest(event), config, deps));
  };
}
