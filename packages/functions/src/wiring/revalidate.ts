// The Stripe revalidator's dependencies: the ledger, the queue with its claim-check store, and a Stripe client per account (built in
// clients.ts). Explicit options for the local runtime and tests; `…FromEnv` maps the Lambda's variables.
import {
  revalidateStripeObjects,
  type StripeRevalidationDeps,
} from '@payhooks/core/backfill/revalidate-stripe';
import type { ClaimStore } from '@payhooks/core/envelope';
import type { Sql } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import { type Clock, type Queue, systemClock } from '@payhooks/core/ports';
import { syntheticEvent } from '@payhooks/core/providers/stripe';
import { metricsFor } from '../adapters/metrics.ts';
import { queueFromEnv } from '../adapters/sqs.ts';
import { type Env, integer, once, secret } from '../config.ts';
import { claimStoreFromEnv } from './claim-check.ts';
import { type StripeApiOptions, stripeApiBaseUrlFromEnv, stripeClients } from './clients.ts';
import { sqlFromEnv } from './db.ts';
import { parseStripeApiKeys } from './stripe-accounts.ts';

export interface StripeRevalidationOptions {
  sql: Sql;
  queue: Queue;
  /** The claim-check store (CLAIM_CHECK_BUCKET; the folder store locally). */
  claims?: ClaimStore | undefined;
  api: Omit<StripeApiOptions, 'clock'>;
  clock?: Clock;
  limit?: number;
}

export function stripeRevalidationDeps(options: StripeRevalidationOptions): StripeRevalidationDeps {
  const clock = options.clock ?? systemClock;
  const clients = stripeClients({ ...options.api, clock });
  return {
    sql: options.sql,
    queue: options.queue,
    claims: options.claims,
    clock,
    retrieve: (account, objectType, id) => clients.retrieveApiFor(account).retrieve(objectType, id),
    synthetic: syntheticEvent,
    ...(options.limit === undefined ? {} : { limit: options.limit }),
  };
}

/** The scheduled handler: one run per invocation; a failed object is retried by a later run with backoff. */
export function createRevalidateStripeHandler(env: Env) {
  const logger = createLogger({ name: 'revalidate-stripe' });
  const metrics = metricsFor('revalidate-stripe', env);
  const setup = once(async () => {
    // STRIPE_API_KEY in either form (stripe-accounts.ts): an independent account's objects with its own key.
    const keys = parseStripeApiKeys(await secret(env, 'STRIPE_API_KEY'));
    return stripeRevalidationDeps({
      sql: sqlFromEnv(env, 'payhooks-revalidate'),
      queue: queueFromEnv(env),
      claims: claimStoreFromEnv(env),
      api: { apiKey: keys.default ?? '', accountKeys: keys.named, ...stripeApiBaseUrlFromEnv(env) },
      limit: integer(env, 'REVALIDATE_LIMIT', 100),
    });
  });
  return async () => {
    const result = await revalidateStripeObjects(await setup());
    metrics.count('ObjectsRevalidated', result.enqueued, { provider: 'stripe' });
    if (result.failed.length > 0)
      metrics.count('RevalidationFailed', result.failed.length, { provider: 'stripe' });
    logger.info('revalidation finished', {
      claimed: result.claimed,
      enqueued: result.enqueued,
      failed: result.failed.length,
    });
    return result;
  };
}

// Consistency sampling resyncs drifted objects the same way (through the queue). Re-exported here because this
// module is an entry point of the package; give wiring/consistency.ts its own `exports` entry when package.json
// may change.
export * from './consistency.ts';
