// Lambda: nightly Stripe reconciliation (EventBridge, 12:00–16:00 UTC). For the platform account and each
// connected account in STRIPE_RECON_ACCOUNTS: balance_change_from_activity.itemized.3 and payouts.itemized.3 for
// yesterday (UTC) through the stripe package — create the run, poll with backoff, download, stream-parse — then
// match against payments, refunds and the payout mirror, heal via retrieve + synthetic event, report.
import type { Sql } from '@payhooks/core/ledger';
import type { Clock, Logger, Metrics, ObjectStore } from '@payhooks/core/ports';
import { StripeClient, syntheticEvent } from '@payhooks/core/providers/stripe/client';
import {
  businessWindow,
  type ReconcileResult,
  type ReconProgress,
  reconcile,
  type StripeReportApi,
  type StripeRetrieveApi,
  stripeHealer,
  stripeSource,
} from '@payhooks/core/recon/run/index';
import type { Alerter } from './adapters/alerts.ts';
import { type Env, list, once, optional, secret } from './config.ts';
import { stripeNormalizerFromEnv } from './consumer.ts';
import { businessDateFor, commonReconDeps, type ReconEvent, reconHandler } from './recon.ts';

export interface ReconStripeDeps {
  sql: Sql;
  store: ObjectStore;
  /** '' (platform) and connected accounts to reconcile. */
  accounts: readonly string[];
  /** Report runs are created by the platform; objects of a connected account are retrieved as that account. */
  reportApi: StripeReportApi;
  retrieveApiFor(account: string): StripeRetrieveApi;
  orderMetadataKey: string;
  env: Env;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  alerter: Alerter;
  toleranceMinutes?: number;
  reportsLocation?: string;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (account: string, progress: ReconProgress) => void;
}

export async function runStripeReconciliation(
  deps: ReconStripeDeps,
  event: ReconEvent = {},
): Promise<ReconcileResult[]> {
  const businessDate = businessDateFor('stripe', event, deps.clock);
  const wanted = event.account ?? event.merchant;
  const accounts = wanted === undefined ? deps.accounts : [wanted === 'platform' ? '' : wanted];
  const normalizer = stripeNormalizerFromEnv(deps.env);
  const results: ReconcileResult[] = [];
  for (const account of accounts) {
    results.push(
      await reconcile(
        {
          sql: deps.sql,
          store: deps.store,
          clock: deps.clock,
          logger: deps.logger,
          normalizer,
          healer: stripeHealer(deps.retrieveApiFor(account), syntheticEvent, account, deps.clock),
          ...(deps.toleranceMinutes === undefined ? {} : { toleranceMinutes: deps.toleranceMinutes }),
          ...(deps.onProgress ? { onProgress: (p: ReconProgress) => deps.onProgress!(account, p) } : {}),
        },
        {
          source: stripeSource(deps.reportApi, {
            account,
            window: businessWindow('stripe', businessDate),
            orderMetadataKey: deps.orderMetadataKey,
            ...(deps.sleep ? { sleep: deps.sleep } : {}),
          }),
          businessDate,
          force: event.force ?? false,
        },
      ),
    );
  }
  return results;
}

export async function reconStripeDepsFromEnv(
  env: Env,
  overrides: Partial<ReconStripeDeps> = {},
): Promise<ReconStripeDeps> {
  const common = commonReconDeps('recon-stripe', env, overrides);
  const { clock } = common;
  const needsKey = !overrides.reportApi || !overrides.retrieveApiFor;
  const apiKey = needsKey ? await secret(env, 'STRIPE_API_KEY') : '';
  const base = {
    apiKey,
    clock,
    ...(env.STRIPE_API_BASE_URL
      ? { apiBaseUrl: env.STRIPE_API_BASE_URL, filesBaseUrl: env.STRIPE_API_BASE_URL }
      : {}),
  };
  const platform = needsKey ? new StripeClient(base) : undefined;
  const connected = new Map<string, StripeClient>();
  return {
    ...common,
    accounts: overrides.accounts ?? ['', ...list(env.STRIPE_RECON_ACCOUNTS ?? '')],
    reportApi: overrides.reportApi ?? (platform as unknown as StripeReportApi),
    retrieveApiFor:
      overrides.retrieveApiFor ??
      ((account) => {
        if (account === '') return platform!;
        let client = connected.get(account);
        if (!client) {
          client = new StripeClient({ ...base, stripeAccount: account });
          connected.set(account, client);
        }
        return client;
      }),
    orderMetadataKey: overrides.orderMetadataKey ?? optional(env, 'STRIPE_ORDER_METADATA_KEY', 'order_id'),
    env,
    ...(overrides.sleep ? { sleep: overrides.sleep } : {}),
    ...(overrides.onProgress ? { onProgress: overrides.onProgress } : {}),
  };
}

export function createReconStripeHandler(env: Env, overrides: Partial<ReconStripeDeps> = {}) {
  return reconHandler(
    'stripe',
    once(() => reconStripeDepsFromEnv(env, overrides)),
    runStripeReconciliation,
  );
}

export const handler = createReconStripeHandler(process.env);
