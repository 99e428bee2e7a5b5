// The Stripe webhook's per-container setup: signing secrets (from SSM only when bound as an SST secret), the
// queue, logger and metrics — built on the first invocation, never on the request path. Only Stripe's code is
// on this import path (cold start).
import { receiveStripeCallback } from '@payhooks/core/ingress/stripe';
import { createLogger } from '@payhooks/core/logger';
import { systemClock } from '@payhooks/core/ports';
import { toApiResult, toIngressRequest } from '../adapters/apigw.ts';
import { metricsFor } from '../adapters/metrics.ts';
import { sqsSenderFromEnv } from '../adapters/sqs-send.ts';
import { type Env, integer, once, secret } from '../config.ts';
import { claimStoreFromEnv } from './claim-check.ts';
import { DEFAULT_MAX_BODY_BYTES, type HttpHandler } from './ingress.ts';
import { stripeIngressAccounts } from './stripe-accounts.ts';

export function createStripeWebhookHandler(
  env: Env,
  overrides: Partial<Parameters<typeof receiveStripeCallback>[2]> = {},
): HttpHandler {
  const setup = once(async () => ({
    config: {
      // The default account's secrets and any named accounts' (stripe-accounts.ts).
      ...stripeIngressAccounts(await secret(env, 'STRIPE_WEBHOOK_SECRETS')),
      toleranceSeconds: integer(env, 'STRIPE_WEBHOOK_TOLERANCE_SECONDS', 300),
      maxBodyBytes: integer(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES),
    },
    deps: {
      queue: sqsSenderFromEnv(env),
      claims: claimStoreFromEnv(env),
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
