// Stripe reconciliation of one business date (UTC): for the platform account and each connected account,
// balance_change_from_activity.itemized.3, payouts.itemized.3 and payout_reconciliation.itemized.5 through the
// report API — create the run, poll with backoff, download, stream-parse — then match against payments, refunds
// and the payout mirror, heal via retrieve + synthetic event, report. Dependencies are built in wiring/recon.ts.
import type { EnvelopeNormalizer, Sql } from '@payhooks/core/ledger';
import type { Clock, Logger, Metrics, ObjectStore } from '@payhooks/core/ports';
import { syntheticEvent } from '@payhooks/core/providers/stripe';
import {
  businessWindow,
  type ReconcileResult,
  type ReconProgress,
  reconcile,
  type StripeReportApi,
  type StripeRetrieveApi,
  stripeHealer,
  stripeSource,
} from '@payhooks/core/recon/run';
import type { Alerter } from '../adapters/alerts.ts';
import { businessDateFor, type ReconEvent } from './outcome.ts';

export interface ReconStripeDeps {
  sql: Sql;
  store: ObjectStore;
  /** '' (platform) and connected accounts to reconcile. */
  accounts: readonly string[];
  /** Report runs are created by the platform; objects of a connected account are retrieved as that account. */
  reportApi: StripeReportApi;
  /** An independent Stripe account's report API (its own key); absent or undefined: reportApi. */
  reportApiFor?(account: string): StripeReportApi;
  retrieveApiFor(account: string): StripeRetrieveApi;
  orderMetadataKey: string;
  /** The consumer's Stripe normalizer: healed events take the same path as delivered ones. */
  normalizer: EnvelopeNormalizer;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  alerter: Alerter;
  toleranceMinutes?: number;
  reportsLocation?: string;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (account: string, progress: ReconProgress) => void;
  /** False: skip payout_reconciliation.itemized.5 (STRIPE_RECON_PAYOUT_RECONCILIATION=false; manual payouts). */
  payoutReconciliation?: boolean;
}

export async function runStripeReconciliation(
  deps: ReconStripeDeps,
  event: ReconEvent = {},
): Promise<ReconcileResult[]> {
  const businessDate = businessDateFor('stripe', event, deps.clock);
  const wanted = event.account ?? event.merchant;
  const accounts = wanted === undefined ? deps.accounts : [wanted === 'platform' ? '' : wanted];
  const results: ReconcileResult[] = [];
  for (const account of accounts) {
    results.push(
      await reconcile(
        {
          sql: deps.sql,
          store: deps.store,
          clock: deps.clock,
          logger: deps.logger,
          normalizer: deps.normalizer,
          healer: stripeHealer(deps.retrieveApiFor(account), syntheticEvent, account, deps.clock),
          ...(deps.toleranceMinutes === undefined ? {} : { toleranceMinutes: deps.toleranceMinutes }),
          ...(deps.onProgress ? { onProgress: (p: ReconProgress) => deps.onProgress!(account, p) } : {}),
        },
        {
          source: stripeSource(deps.reportApiFor?.(account) ?? deps.reportApi, {
            account,
            window: businessWindow('stripe', businessDate),
            orderMetadataKey: deps.orderMetadataKey,
            ...(deps.sleep ? { sleep: deps.sleep } : {}),
            ...(deps.payoutReconciliation === false ? { payoutReconciliation: false } : {}),
          }),
          businessDate,
          force: event.force ?? false,
        },
      ),
    );
  }
  return results;
}
