// Consistency sampling's dependencies (core/recon/consistency/sample.ts): the ledger, the queue and the
// claim-check store (resync envelopes too large for one message), the consumer's normalizer and, per account, the
// reconciliation healer that asks the provider for an object's current state.
// Explicit options for the local runtime and tests; `…FromEnv` maps the Lambda's variables (one function per
// provider, CONSISTENCY_PROVIDER says which, so each holds only its provider's secrets).

import type { ClaimStore } from '@payhooks/core/envelope';
import { ConfigError } from '@payhooks/core/errors';
import type { EnvelopeNormalizer, Provider, Sql } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import { type Clock, type Logger, type Metrics, type Queue, systemClock } from '@payhooks/core/ports';
import { syntheticEvent } from '@payhooks/core/providers/stripe';
import {
  type ConsistencyDeps,
  type ConsistencySample,
  type StripeRetrieveApi,
  sampleConsistency,
  stripeHealer,
  subMerchantFromMirror,
  type WechatpayQueryApi,
  wechatpayHealer,
} from '@payhooks/core/recon/run';
import { metricsFor } from '../adapters/metrics.ts';
import { queueFromEnv } from '../adapters/sqs.ts';
import { type Env, integer, once } from '../config.ts';
import type { ReconWechatpayDeps } from '../reconciliation/wechatpay.ts';
import { claimStoreFromEnv } from './claim-check.ts';
import { wechatpayNormalizer } from './normalizers.ts';
import { reconStripeDepsFromEnv, reconWechatpayDepsFromEnv } from './recon.ts';

export interface ConsistencyLimits {
  sampleSize?: number;
  windowHours?: number;
  resyncAbovePercent?: number;
}

interface CommonConsistencyOptions extends ConsistencyLimits {
  sql: Sql;
  queue: Queue;
  /** The claim-check store (CLAIM_CHECK_BUCKET; the folder store locally). */
  claims?: ClaimStore | undefined;
  clock?: Clock;
  logger?: Logger;
}

export interface StripeConsistencyOptions extends CommonConsistencyOptions {
  normalizer: EnvelopeNormalizer;
  /** The Stripe client of an account ('' = the platform). */
  retrieveApiFor(account: string): StripeRetrieveApi;
}

export interface WechatpayConsistencyOptions extends CommonConsistencyOptions {
  merchants: ReconWechatpayDeps['merchants'];
  clientFor: (merchant: Parameters<ReconWechatpayDeps['clientFor']>[0]) => WechatpayQueryApi;
}

const limitsOf = (o: ConsistencyLimits) => ({
  ...(o.sampleSize === undefined ? {} : { sampleSize: o.sampleSize }),
  ...(o.windowHours === undefined ? {} : { windowHours: o.windowHours }),
  ...(o.resyncAbovePercent === undefined ? {} : { resyncAbovePercent: o.resyncAbovePercent }),
});

export function stripeConsistencyDeps(options: StripeConsistencyOptions): ConsistencyDeps {
  const clock = options.clock ?? systemClock;
  return {
    sql: options.sql,
    queue: options.queue,
    claims: options.claims,
    clock,
    logger: options.logger ?? createLogger({ name: 'consistency-stripe' }),
    normalizer: options.normalizer,
    fetcherFor: (account) => stripeHealer(options.retrieveApiFor(account), syntheticEvent, account, clock),
    ...limitsOf(options),
  };
}

export function wechatpayConsistencyDeps(options: WechatpayConsistencyOptions): ConsistencyDeps {
  const clock = options.clock ?? systemClock;
  return {
    sql: options.sql,
    queue: options.queue,
    claims: options.claims,
    clock,
    logger: options.logger ?? createLogger({ name: 'consistency-wechatpay' }),
    normalizer: wechatpayNormalizer(options.merchants),
    // The ledger's WeChat Pay account is the mchid; an unconfigured one is skipped (nothing sampled). A
    // service provider's sub-merchant objects are asked through the partner queries, with the sub_mchid the
    // mirror holds, so the answer carries the mirror row that sampling compares.
    fetcherFor: (mchid) => {
      const merchant = options.merchants.byMchid(mchid);
      if (!merchant) return undefined;
      return wechatpayHealer(
        options.clientFor(merchant),
        { id: merchant.id, mchid: merchant.mchid, apiv3Key: merchant.apiv3Key },
        clock,
        { subMerchantOf: subMerchantFromMirror(options.sql, merchant.mchid) },
      );
    },
    ...limitsOf(options),
  };
}

/** Samples every account of the provider and reports the drift per account as metrics. */
export async function runConsistencySampling(
  deps: ConsistencyDeps,
  provider: Provider,
  metrics: Metrics,
): Promise<ConsistencySample[]> {
  const samples = await sampleConsistency(deps, provider);
  for (const sample of samples) {
    const dimensions = { provider, account: sample.account === '' ? 'platform' : sample.account };
    // Percent of the compared sample whose provider state differs from ledger or mirror (alarm: Monitoring.ts).
    metrics.count('ConsistencyDrift', sample.driftPercent, dimensions);
    metrics.count('ConsistencySampled', sample.sampled, dimensions);
    if (sample.resynced > 0) metrics.count('ConsistencyResynced', sample.resynced, dimensions);
    if (sample.failed > 0) metrics.count('ConsistencySampleFailed', sample.failed, dimensions);
  }
  return samples;
}

const limitsFromEnv = (env: Env): ConsistencyLimits => ({
  sampleSize: integer(env, 'CONSISTENCY_SAMPLE_SIZE', 100),
  windowHours: integer(env, 'CONSISTENCY_WINDOW_HOURS', 6),
});

export async function consistencyDepsFromEnv(
  env: Env,
): Promise<{ provider: Provider; deps: ConsistencyDeps }> {
  const provider = env.CONSISTENCY_PROVIDER;
  const common = { queue: queueFromEnv(env), claims: claimStoreFromEnv(env), ...limitsFromEnv(env) };
  if (provider === 'stripe') {
    const recon = await reconStripeDepsFromEnv(env);
    return {
      provider,
      deps: stripeConsistencyDeps({
        ...common,
        sql: recon.sql,
        clock: recon.clock,
        normalizer: recon.normalizer,
        retrieveApiFor: recon.retrieveApiFor,
      }),
    };
  }
  if (provider === 'wechatpay') {
    const recon = await reconWechatpayDepsFromEnv(env);
    return {
      provider,
      deps: wechatpayConsistencyDeps({
        ...common,
        sql: recon.sql,
        clock: recon.clock,
        merchants: recon.merchants,
        clientFor: (merchant) => recon.clientFor(merchant),
      }),
    };
  }
  throw new ConfigError(
    'CONSISTENCY_PROVIDER',
    `CONSISTENCY_PROVIDER must be stripe or wechatpay (got "${provider ?? ''}")`,
  );
}

/** The scheduled handler (every 6 hours per provider): one sampling run of the provider's accounts. */
export function createConsistencyHandler(env: Env) {
  const setup = once(() => consistencyDepsFromEnv(env));
  const metrics = metricsFor(`consistency-${env.CONSISTENCY_PROVIDER ?? 'unknown'}`, env);
  return async () => {
    const { provider, deps } = await setup();
    const samples = await runConsistencySampling(deps, provider, metrics);
    return samples.map(({ drifted, ...rest }) => ({ ...rest, drifted: drifted.length }));
  };
}
