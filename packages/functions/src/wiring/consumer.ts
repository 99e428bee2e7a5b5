// The consumer's dependencies from the environment: the database (one connection per container), both
// providers' normalizers (WeChat Pay merchants loaded on the first WeChat Pay message), logger and metrics.
import { createLogger } from '@payhooks/core/logger';
import { metricsFor } from '../adapters/metrics.ts';
import type { Env } from '../config.ts';
import type { ConsumerDeps } from '../consumer.ts';
import { sqlFromEnv } from './db.ts';
import { stripeNormalizerFromEnv, wechatpayNormalizerFromEnv } from './normalizers.ts';

export function consumerDepsFromEnv(env: Env, overrides: Partial<ConsumerDeps> = {}): ConsumerDeps {
  return {
    sql: overrides.sql ?? sqlFromEnv(env, 'payhooks-consumer'),
    normalizers: overrides.normalizers ?? {
      stripe: stripeNormalizerFromEnv(env),
      wechatpay: wechatpayNormalizerFromEnv(env),
    },
    logger: overrides.logger ?? createLogger({ name: 'consumer' }),
    metrics: overrides.metrics ?? metricsFor('consumer', env),
  };
}
