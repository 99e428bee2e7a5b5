// The consumer's dependencies from the environment: the database (one connection per container), both
// providers' normalizers (WeChat Pay merchants loaded on the first WeChat Pay message), logger and metrics.
import type { ClaimReader, Envelope } from '@payhooks/core/envelope';
import type { DeliveryFailureRecorder, EnvelopeNormalizer, Sql } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import type { Logger, Metrics } from '@payhooks/core/ports';
import { metricsFor, type TimedMetrics } from '../adapters/metrics.ts';
import type { Env } from '../config.ts';
import { claimStoreFromEnv } from './claim-check.ts';
import { sqlFromEnv } from './db.ts';
import { stripeNormalizerFromEnv, wechatpayNormalizerFromEnv } from './normalizers.ts';

export interface ConsumerDeps {
  sql: Sql;
  normalizers: Record<Envelope['provider'], EnvelopeNormalizer>;
  logger: Logger;
  /** With `milliseconds`, LedgerLag is recorded too (EMF in Lambda, memory locally). */
  metrics: Metrics & Partial<Pick<TimedMetrics, 'milliseconds'>>;
  /** Where failure reasons go; by default delivery_failures through `sql`. */
  failures?: DeliveryFailureRecorder;
  /** Reads claim-checked bodies (CLAIM_CHECK_BUCKET; the folder store locally); absent: none expected. */
  claims?: ClaimReader | undefined;
}

export function consumerDepsFromEnv(env: Env, overrides: Partial<ConsumerDeps> = {}): ConsumerDeps {
  return {
    sql: overrides.sql ?? sqlFromEnv(env, 'payhooks-consumer'),
    normalizers: overrides.normalizers ?? {
      stripe: stripeNormalizerFromEnv(env),
      wechatpay: wechatpayNormalizerFromEnv(env),
    },
    logger: overrides.logger ?? createLogger({ name: 'consumer' }),
    metrics: overrides.metrics ?? metricsFor('consumer', env),
    claims: overrides.claims ?? claimStoreFromEnv(env),
  };
}
