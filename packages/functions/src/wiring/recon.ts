// The reconciliation handlers' dependencies: explicit constructors (the local runtime and the CLI call these)
// and thin …FromEnv functions that map the Lambda environment to their options.
import type { Sql } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import { type Clock, type Logger, type Metrics, type ObjectStore, systemClock } from '@payhooks/core/ports';
import { type Alerter, createAlerter } from '../adapters/alerts.ts';
import { metricsFor } from '../adapters/metrics.ts';
import { s3StoreFromEnv } from '../adapters/s3-store.ts';
import { type Env, integer, list, once, optional, payoutReconciliationFromEnv, secret } from '../config.ts';
import { reconHandler } from '../reconciliation/outcome.ts';
import { type ReconStripeDeps, runStripeReconciliation } from '../reconciliation/stripe.ts';
import { type ReconWechatpayDeps, runWechatpayReconciliation } from '../reconciliation/wechatpay.ts';
import {
  type StripeApiOptions,
  stripeApiBaseUrlFromEnv,
  stripeClients,
  wechatpayClients,
} from './clients.ts';
import { sqlFromEnv } from './db.ts';
import { merchantsFromEnv } from './merchants.ts';
import { stripeNormalizer, stripeNormalizerOptionsFromEnv } from './normalizers.ts';
import { parseStripeApiKeys, type StripeAccountValues } from './stripe-accounts.ts';

type ReconName = 'recon-stripe' | 'recon-wechatpay';

/** The parts of a reconciliation run's dependencies both providers share. */
export interface CommonReconDeps {
  sql: Sql;
  store: ObjectStore;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  alerter: Alerter;
  toleranceMinutes: number;
  reportsLocation: string;
}

/** Maps the environment to the shared parts; every part given in `overrides` is taken as it is. */
export function commonReconDeps(
  name: ReconName,
  env: Env,
  overrides: Partial<CommonReconDeps>,
): CommonReconDeps {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? createLogger({ name });
  return {
    sql: overrides.sql ?? sqlFromEnv(env, `payhooks-${name}`),
    store: overrides.store ?? s3StoreFromEnv(env),
    clock,
    logger,
    metrics: overrides.metrics ?? metricsFor(name, env),
    alerter: overrides.alerter ?? createAlerter(env, logger),
    toleranceMinutes: overrides.toleranceMinutes ?? integer(env, 'RECON_TOLERANCE_MINUTES', 10),
    reportsLocation: overrides.reportsLocation ?? `s3://${env.REPORTS_BUCKET ?? '?'}/`,
  };
}

export interface ReconStripeOptions extends CommonReconDeps {
  /** '' (platform) and connected accounts to reconcile. */
  accounts: readonly string[];
  /** Credentials and base URL of the Stripe API (clients built here), or the clients themselves. */
  api:
    | Omit<StripeApiOptions, 'clock'>
    | Pick<ReconStripeDeps, 'reportApi' | 'retrieveApiFor' | 'reportApiFor'>;
  orderMetadataKey: string;
  expectedLivemode?: boolean;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: ReconStripeDeps['onProgress'];
  payoutReconciliation?: boolean;
}

export function reconStripeDeps(options: ReconStripeOptions): ReconStripeDeps {
  const {
    api,
    accounts,
    orderMetadataKey,
    expectedLivemode,
    sleep,
    onProgress,
    payoutReconciliation,
    ...common
  } = options;
  const clients = 'apiKey' in api ? stripeClients({ ...api, clock: common.clock }) : api;
  return {
    ...common,
    accounts,
    reportApi: clients.reportApi,
    ...(clients.reportApiFor ? { reportApiFor: (account: string) => clients.reportApiFor!(account) } : {}),
    retrieveApiFor: (account) => clients.retrieveApiFor(account),
    orderMetadataKey,
    normalizer: stripeNormalizer({
      orderMetadataKey,
      ...(expectedLivemode === undefined ? {} : { expectedLivemode }),
    }),
    ...(sleep ? { sleep } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(payoutReconciliation === false ? { payoutReconciliation } : {}),
  };
}

/** The clients' options from STRIPE_API_KEY (either form); a named-only key set has no default key. */
export function stripeApiOptions(
  keys: StripeAccountValues<string>,
  env: Env,
): Omit<StripeApiOptions, 'clock'> {
  return {
    // Without a default account only named accounts are reconciled; '' is then never asked for.
    apiKey: keys.default ?? '',
    accountKeys: keys.named,
    ...stripeApiBaseUrlFromEnv(env),
  };
}

export async function reconStripeDepsFromEnv(
  env: Env,
  overrides: Partial<ReconStripeDeps> = {},
): Promise<ReconStripeDeps> {
  const common = commonReconDeps('recon-stripe', env, overrides);
  const { reportApi, retrieveApiFor } = overrides;
  // Each Stripe account's key (stripe-accounts.ts): the default account's and the named accounts'.
  const keys =
    reportApi && retrieveApiFor ? undefined : parseStripeApiKeys(await secret(env, 'STRIPE_API_KEY'));
  const normalizer = stripeNormalizerOptionsFromEnv(env);
  const deps = reconStripeDeps({
    ...common,
    accounts: overrides.accounts ?? [
      ...(keys?.default === undefined ? [] : ['']),
      ...(keys ? keys.named.keys() : []),
      ...list(env.STRIPE_RECON_ACCOUNTS ?? ''),
    ],
    api:
      reportApi && retrieveApiFor
        ? {
            reportApi,
            retrieveApiFor,
            ...(overrides.reportApiFor ? { reportApiFor: overrides.reportApiFor } : {}),
          }
        : stripeApiOptions(keys!, env),
    orderMetadataKey: overrides.orderMetadataKey ?? optional(env, 'STRIPE_ORDER_METADATA_KEY', 'order_id'),
    ...(normalizer.expectedLivemode === undefined ? {} : { expectedLivemode: normalizer.expectedLivemode }),
    ...(overrides.sleep ? { sleep: overrides.sleep } : {}),
    ...(overrides.onProgress ? { onProgress: overrides.onProgress } : {}),
    payoutReconciliation: overrides.payoutReconciliation ?? payoutReconciliationFromEnv(env),
  });
  return overrides.normalizer ? { ...deps, normalizer: overrides.normalizer } : deps;
}

export interface ReconWechatpayOptions extends CommonReconDeps {
  merchants: ReconWechatpayDeps['merchants'];
  /** Base URL of the merchant API (clients built here), or the per-merchant client factory itself. */
  api: { baseUrl?: string } | Pick<ReconWechatpayDeps, 'clientFor'>;
  onProgress?: ReconWechatpayDeps['onProgress'];
}

export function reconWechatpayDeps(options: ReconWechatpayOptions): ReconWechatpayDeps {
  const { api, merchants, onProgress, ...common } = options;
  return {
    ...common,
    merchants,
    clientFor:
      'clientFor' in api
        ? api.clientFor
        : wechatpayClients({ ...(api.baseUrl ? { baseUrl: api.baseUrl } : {}), clock: common.clock }),
    ...(onProgress ? { onProgress } : {}),
  };
}

export async function reconWechatpayDepsFromEnv(
  env: Env,
  overrides: Partial<ReconWechatpayDeps> = {},
): Promise<ReconWechatpayDeps> {
  return reconWechatpayDeps({
    ...commonReconDeps('recon-wechatpay', env, overrides),
    merchants: overrides.merchants ?? (await merchantsFromEnv(env)),
    api: overrides.clientFor
      ? { clientFor: overrides.clientFor }
      : env.WECHATPAY_API_BASE_URL
        ? { baseUrl: env.WECHATPAY_API_BASE_URL }
        : {},
    ...(overrides.onProgress ? { onProgress: overrides.onProgress } : {}),
  });
}

export function createReconStripeHandler(env: Env, overrides: Partial<ReconStripeDeps> = {}) {
  return reconHandler(
    'stripe',
    once(() => reconStripeDepsFromEnv(env, overrides)),
    runStripeReconciliation,
  );
}

export function createReconWechatpayHandler(env: Env, overrides: Partial<ReconWechatpayDeps> = {}) {
  return reconHandler(
    'wechatpay',
    once(() => reconWechatpayDepsFromEnv(env, overrides)),
    runWechatpayReconciliation,
  );
}
