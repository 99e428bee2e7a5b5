// The two webhook handlers' per-container setup: verification material (parsed once), the queue, logger and
// metrics — everything a callback needs before its first request, built on the first invocation.
import { receiveStripeCallback } from '@payhooks/core/ingress/stripe';
import { receiveWechatpayCallback } from '@payhooks/core/ingress/wechatpay';
import { createLogger } from '@payhooks/core/logger';
import { systemClock } from '@payhooks/core/ports';
import { DEFAULT_TOLERANCE_SECONDS } from '@payhooks/core/providers/wechatpay';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { toApiResult, toIngressRequest } from '../adapters/apigw.ts';
import { metricsFor } from '../adapters/metrics.ts';
import { queueFromEnv } from '../adapters/sqs.ts';
import { type Env, integer, list, once, secret } from '../config.ts';
import { merchantsFromEnv } from './merchants.ts';

export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** 192 KiB leaves room for the envelope (JSON escaping) inside one 256 KiB queue message. */
const DEFAULT_MAX_BODY_BYTES = 196_608;

export function createStripeWebhookHandler(
  env: Env,
  overrides: Partial<Parameters<typeof receiveStripeCallback>[2]> = {},
): HttpHandler {
  const setup = once(async () => ({
    config: {
      secrets: list(await secret(env, 'STRIPE_WEBHOOK_SECRETS')),
      toleranceSeconds: integer(env, 'STRIPE_WEBHOOK_TOLERANCE_SECONDS', 300),
      maxBodyBytes: integer(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES),
    },
    deps: {
      queue: queueFromEnv(env),
      clock: systemClock,
      logger: createLogger({ name: 'stripe-webhook' }),
      metrics: metricsFor('stripe-webhook', env),
      ...overrides,
    },
  }));
  return async (event) => {
    const { config, deps } = await setup();
    return toApiResult(await receiveStripeCallback(toIngressRequest(event), config, deps));
  };
}

export function createWechatpayWebhookHandler(
  env: Env,
  overrides: Partial<Parameters<typeof receiveWechatpayCallback>[2]> = {},
): HttpHandler {
  const setup = once(async () => ({
    config: {
      merchants: await merchantsFromEnv(env),
      toleranceSeconds: DEFAULT_TOLERANCE_SECONDS, // the protocol's ±300 s; not configurable
      maxBodyBytes: integer(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES),
    },
    deps: {
      queue: queueFromEnv(env),
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
