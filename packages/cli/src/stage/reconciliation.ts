// Reconciliation against a deployed stage: the same wiring constructors as the recon Lambdas, with the
// operator's environment (DATABASE_URL, REPORTS_BUCKET, STRIPE_API_KEY, WECHATPAY_MERCHANTS[_FILE], …) and the
// S3 reports bucket. Alerts go to the log (not SNS), metrics stay in memory.
import type { Sql } from '@payhooks/core/ledger';
import type { Logger } from '@payhooks/core/ports';
import type { ReconcileResult, ReconProgress } from '@payhooks/core/recon/run';
import { MemoryAlerter } from '@payhooks/functions/adapters/alerts';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { s3StoreFromEnv } from '@payhooks/functions/adapters/s3-store';
import { runStripeReconciliation } from '@payhooks/functions/reconciliation/stripe';
import { runWechatpayReconciliation } from '@payhooks/functions/reconciliation/wechatpay';
import { reconStripeDepsFromEnv, reconWechatpayDepsFromEnv } from '@payhooks/functions/wiring/recon';

/** What a `recon run` asks of either target (a deployed stage here, the local stack in ../local). */
export interface ReconRunRequest {
  sql: Sql;
  env: NodeJS.ProcessEnv;
  provider: 'wechatpay' | 'stripe';
  date?: string;
  account?: string;
  force: boolean;
  logger: Logger;
  onProgress: (provider: string, account: string, progress: ReconProgress) => void;
}

export interface ReconRunOutcome {
  description: string;
  failed: boolean;
}

export async function reconcileStage(options: ReconRunRequest): Promise<ReconRunOutcome> {
  const { env, provider } = options;
  const parts = {
    sql: options.sql,
    store: s3StoreFromEnv(env),
    logger: options.logger,
    metrics: new MemoryMetrics(),
    alerter: new MemoryAlerter(),
  };
  const event = {
    ...(options.date ? { date: options.date } : {}),
    ...(options.account ? { account: options.account } : {}),
    force: options.force,
  };
  const results =
    provider === 'wechatpay'
      ? await runWechatpayReconciliation(
          await reconWechatpayDepsFromEnv(env, {
            ...parts,
            onProgress: (m, p) => options.onProgress('wechatpay', m.mchid, p),
          }),
          event,
        )
      : await runStripeReconciliation(
          await reconStripeDepsFromEnv(env, {
            ...parts,
            onProgress: (a, p) => options.onProgress('stripe', a || 'platform', p),
          }),
          event,
        );
  return { description: describe(results), failed: results.some((r) => r.status === 'failed') };
}

function describe(results: readonly ReconcileResult[]): string {
  return results
    .map((r) => {
      const who = `${r.provider} ${r.account || 'platform'} ${r.businessDate}`;
      if (r.status !== 'succeeded')
        return `  ${who}: ${r.status}${r.error ? ` (${r.error.code}: ${r.error.message})` : ''}`;
      return `  ${who}: ${r.counts.matched ?? 0} matched, ${r.breaks.total} break(s) (${r.breaks.healed} healed, ${r.breaks.unhealed} unhealed)${r.reportKeys ? `  report ${r.reportKeys.pointerKey}` : ''}`;
    })
    .join('\n');
}
