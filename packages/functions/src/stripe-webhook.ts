// Lambda: POST /webhooks/stripe[/{account}] — verify, enqueue, answer.
import { receiveStripeCallback } from '@payhooks/core/ingress/stripe';
import { createLogger } from '@payhooks/core/logger';
import { systemClock } from '@payhooks/core/ports';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { toApiResult, toIngressRequest } from './adapters/apigw.ts';
import { metricsFor } from './adapters/metrics.ts';
import { queueFromEnv } from './adapters/sqs.ts';
import { type Env, integer, list, once, secret } from './config.ts';

export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export function createStripeWebhookHandler(
  env: Env,
  overrides: Partial<Parameters<typeof receiveStripeCallback>[2]> = {},
): HttpHandler {
  const setup = once(async () => ({
    config: {
      secrets: list(await secret(env, 'STRIPE_WEBHOOK_SECRETS')),
      toleranceSeconds: integer(env, 'STRIPE_WEBHOOK_TOLERANCE_SECONDS', 300),
      // 192 KiB leaves room for the envelope (JSON escaping) inside one 256 KiB queue message.
      maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 196_608),
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

export const handler: HttpHandler = createStripeWebhookHandler(process.env);
