// The scheduled-reconciliation contract both providers share (handlers, local runtime, CLI): the event (business
// date = yesterday in the provider's zone, or from the event), metrics and alerts after each run, and the
// handler shape that throws ReconFailedError when a run failed.

import type { Provider } from '@payhooks/core/ledger';
import type { Clock, Logger, Metrics } from '@payhooks/core/ports';
import {
  previousBusinessDate,
  type ReconcileResult,
  refuseFutureBusinessDate,
} from '@payhooks/core/recon/run';
import type { Alerter } from '../adapters/alerts.ts';
import { ReconFailedError } from '../errors.ts';

export { ReconFailedError };

/** What a scheduled or manual invocation may carry (EventBridge sends its own fields, which are ignored). */
export interface ReconEvent {
  /** Business date YYYY-MM-DD; default yesterday in the provider's zone. */
  date?: string;
  /** WeChat Pay merchant id or mchid / Stripe account (acct_… or `platform`); default all configured. */
  account?: string;
  merchant?: string;
  /** Re-run a date that already succeeded. */
  force?: boolean;
  /** Treat "not ready yet" as a failure (the last scheduled attempt); default: decided from the hour. */
  lastAttempt?: boolean;
}

/** UTC hour of the last scheduled attempt (stacks/Reconciliation.ts SCHEDULES). */
const LAST_ATTEMPT_UTC_HOUR: Record<Provider, number> = { wechatpay: 4, stripe: 16 };

/** The event's date (refused when in the future: one clear error before any merchant runs), else yesterday. */
export function businessDateFor(provider: Provider, event: ReconEvent, clock: Clock): string {
  if (event.date) return refuseFutureBusinessDate(provider, event.date, clock.now());
  return previousBusinessDate(provider, clock.now());
}

export function isLastAttempt(provider: Provider, event: ReconEvent, clock: Clock): boolean {
  return event.lastAttempt ?? clock.now().getUTCHours() >= LAST_ATTEMPT_UTC_HOUR[provider];
}

/** Publishes UnhealedBreaks, alerts on unhealed breaks and failures; returns whether the invocation must fail. */
export async function reportOutcome(
  provider: Provider,
  results: readonly ReconcileResult[],
  options: {
    metrics: Metrics;
    alerter: Alerter;
    logger: Logger;
    lastAttempt: boolean;
    reportsLocation: string;
  },
): Promise<{ failed: ReconcileResult[] }> {
  const failed: ReconcileResult[] = [];
  for (const result of results) {
    const where = {
      provider,
      account: result.account,
      businessDate: result.businessDate,
      runId: result.runId,
    };
    if (result.status === 'succeeded') {
      options.metrics.count('UnhealedBreaks', result.breaks.unhealed);
      if (result.breaks.unhealed > 0) {
        await options.alerter.alert({
          subject: `payhooks ${provider} reconciliation ${result.businessDate}: ${result.breaks.unhealed} unhealed break(s)`,
          message:
            `Reconciliation of ${provider} account ${result.account || 'platform'} for ${result.businessDate} found ` +
            `${result.breaks.total} break(s), ${result.breaks.healed} healed, ${result.breaks.unhealed} unhealed ` +
            `(${JSON.stringify(result.counts)}). Report: ${options.reportsLocation} ${result.reportKeys?.files['breaks.csv'] ?? ''}`,
          fields: { ...where, counts: result.counts, breaks: result.breaks },
        });
      }
    } else if (result.status === 'failed' || (result.status === 'not_ready' && options.lastAttempt)) {
      failed.push(result);
      await options.alerter.alert({
        subject: `payhooks ${provider} reconciliation ${result.businessDate} failed`,
        message:
          `Reconciliation of ${provider} account ${result.account || 'platform'} for ${result.businessDate} failed: ` +
          `${result.error?.code}: ${result.error?.message}.` +
          (result.keptFiles?.length ? ` Downloaded files kept: ${result.keptFiles.join(', ')}.` : '') +
          ' Re-run: npm run cli -- recon run',
        fields: { ...where, error: result.error, keptFiles: result.keptFiles },
      });
    } else {
      options.logger.info('reconciliation not run', {
        ...where,
        status: result.status,
        reason: result.reason ?? result.error?.message,
      });
    }
  }
  return { failed };
}

/** What a reconciliation handler needs after its provider-specific setup. */
export interface ReconHandlerDeps {
  metrics: Metrics;
  alerter: Alerter;
  logger: Logger;
  clock: Clock;
  reportsLocation?: string;
}

/**
 * The scheduled handler shape both providers share: run, publish metrics and alerts, and throw when a run failed
 * (a thrown invocation is what the Recon…Failed alarms count).
 */
export function reconHandler<D extends ReconHandlerDeps>(
  provider: Provider,
  setup: () => Promise<D>,
  run: (deps: D, event: ReconEvent) => Promise<ReconcileResult[]>,
) {
  return async (event: ReconEvent = {}) => {
    const deps = await setup();
    const results = await run(deps, event);
    const { failed } = await reportOutcome(provider, results, {
      metrics: deps.metrics,
      alerter: deps.alerter,
      logger: deps.logger,
      lastAttempt: isLastAttempt(provider, event, deps.clock),
      reportsLocation: deps.reportsLocation ?? '',
    });
    if (failed.length > 0) throw new ReconFailedError(failed);
    return results.map(({ account, businessDate, status, runId, counts, breaks, reportKeys }) => ({
      provider,
      account,
      businessDate,
      status,
      runId,
      counts,
      breaks,
      report: reportKeys?.pointerKey ?? null,
    }));
  };
}
