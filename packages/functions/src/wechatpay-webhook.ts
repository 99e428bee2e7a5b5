// Lambda: POST /webhooks/wechatpay[/{merchant}] — verify, enqueue the still-encrypted body, answer 204.
import { receiveWechatpayCallback } from '@payhooks/core/ingress/wechatpay';
import { createLogger } from '@payhooks/core/logger';
import { systemClock } from '@payhooks/core/ports';
import { DEFAULT_TOLERANCE_SECONDS } from '@payhooks/core/providers/wechatpay';
import { toApiResult, toIngressRequest } from './adapters/apigw.ts';
import { metricsFor } from './adapters/metrics.ts';
import { queueFromEnv } from './adapters/sqs.ts';
import { type Env, integer, once } from './config.ts';
import type { HttpHandler } from './stripe-webhook.ts';
import { merchantsFromEnv } from './wechatpay-merchants.ts';

export function createWechatpayWebhookHandler(
  env: Env,
  overrides: Partial<Parameters<typeof receiveWechatpayCallback>[2]> = {},
): HttpHandler {
  const setup = once(async () => ({
    config: {
      merchants: await merchantsFromEnv(env),
      toleranceSeconds: DEFAULT_TOLERANCE_SECONDS, // the protocol's ±300 s; not configurable
      // 192 KiB leaves room for the envelope (JSON escaping) inside one 256 KiB queue message.
      maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 196_608),
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

export const handler: HttpHandler = createWechatpayWebhookHandler(process.env);
