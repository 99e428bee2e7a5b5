// The local reconciliation step: runs the same code as the recon-wechatpay / recon-stripe Lambdas against the
// provider API sandbox (or any base URL), with the folder object store (REPORTS_DIR) instead of S3, and the local
// reports routes (GET /reports, GET /reports/{key+}) for the gateway. `npm start` and the CLI's local commands
// call it; the dependencies come from the same wiring constructors as the Lambdas', with explicit options.
import path from 'node:path';
import type { ClaimStore } from '@payhooks/core/envelope';
import type { Sql } from '@payhooks/core/ledger';
import { type Logger, type Queue, systemClock } from '@payhooks/core/ports';
import type { ConsistencySample, ReconcileResult, ReconProgress } from '@payhooks/core/recon/run';
import { MemoryAlerter } from '@payhooks/functions/adapters/alerts';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { createReports } from '@payhooks/functions/adapters/reports-api';
import { type Env, integer, payoutReconciliationFromEnv, secret } from '@payhooks/functions/config';
import { runStripeReconciliation } from '@payhooks/functions/reconciliation/stripe';
import { runWechatpayReconciliation } from '@payhooks/functions/reconciliation/wechatpay';
import { stripeClients, wechatpayClients } from '@payhooks/functions/wiring/clients';
import { merchantsFromEnv } from '@payhooks/functions/wiring/merchants';
import { stripeNormalizer, stripeNormalizerOptionsFromEnv } from '@payhooks/functions/wiring/normalizers';
import { reconStripeDeps, reconWechatpayDeps } from '@payhooks/functions/wiring/recon';
import {
  runConsistencySampling,
  stripeConsistencyDeps,
  wechatpayConsistencyDeps,
} from '@payhooks/functions/wiring/revalidate';
import { createFolderStore } from './folder-store.ts';
import type { Route } from './gateway.ts';
import type { ReportLinks } from './report-links.ts';

export interface LocalReconOptions {
  sql: Sql;
  /** The stack's handler environment (WECHATPAY_MERCHANTS_FILE, STRIPE_ORDER_METADATA_KEY, …). */
  env: Env;
  reportsDir: string;
  /** Base URL of the provider API sandbox (both WeChat Pay /v3 and Stripe /v1), or of the real APIs. */
  providerApiUrl?: string;
  stripeApiKey?: string;
  providers?: readonly ('wechatpay' | 'stripe')[];
  /** Business dates; default yesterday in each provider's zone. */
  dates?: { wechatpay?: string; stripe?: string };
  force?: boolean;
  /** Only this WeChat Pay merchant (id or mchid) / Stripe account (acct_… or `platform`). */
  account?: string;
  /** Connected accounts to reconcile besides the platform. */
  stripeAccounts?: readonly string[];
  logger: Logger;
  onProgress?: (provider: string, account: string, progress: ReconProgress) => void;
}

export interface LocalReconResult {
  results: ReconcileResult[];
  alerts: MemoryAlerter['alerts'];
  metrics: MemoryMetrics;
  reportsDir: string;
  /** Absolute paths of each run's breaks.csv, keyed `provider/account/date`. */
  reportFiles: Record<string, string>;
}

export async function runLocalReconciliation(options: LocalReconOptions): Promise<LocalReconResult> {
  const store = createFolderStore(options.reportsDir);
  const metrics = new MemoryMetrics();
  const alerter = new MemoryAlerter();
  const env = options.env;
  const clock = systemClock;
  const common = {
    sql: options.sql,
    store,
    clock,
    metrics,
    alerter,
    logger: options.logger,
    toleranceMinutes: integer(env, 'RECON_TOLERANCE_MINUTES', 10),
    reportsLocation: `${store.root}/`,
  };
  const results: ReconcileResult[] = [];
  const providers = options.providers ?? ['wechatpay', 'stripe'];
  if (providers.includes('wechatpay')) {
    const deps = reconWechatpayDeps({
      ...common,
      merchants: await merchantsFromEnv(env),
      api: {
        ...((options.providerApiUrl ?? env.WECHATPAY_API_BASE_URL)
          ? { baseUrl: (options.providerApiUrl ?? env.WECHATPAY_API_BASE_URL)! }
          : {}),
      },
      ...(options.onProgress ? { onProgress: (m, p) => options.onProgress!('wechatpay', m.mchid, p) } : {}),
    });
    results.push(
      ...(await runWechatpayReconciliation(deps, {
        ...(options.dates?.wechatpay ? { date: options.dates.wechatpay } : {}),
        ...(options.account ? { merchant: options.account } : {}),
        force: options.force ?? false,
      })),
    );
  }
  if (providers.includes('stripe')) {
    const normalizer = stripeNormalizerOptionsFromEnv(env);
    const baseUrl = options.providerApiUrl ?? env.STRIPE_API_BASE_URL;
    const deps = reconStripeDeps({
      ...common,
      accounts: ['', ...(options.stripeAccounts ?? [])],
      api: {
        apiKey: options.stripeApiKey ?? (await secret(env, 'STRIPE_API_KEY')),
        ...(baseUrl ? { baseUrl } : {}),
      },
      ...normalizer,
      payoutReconciliation: payoutReconciliationFromEnv(env),
      // The sandbox finishes report runs quickly: poll often instead of Stripe's 2 s → 60 s backoff.
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 100))),
      ...(options.onProgress
        ? { onProgress: (a, p) => options.onProgress!('stripe', a || 'platform', p) }
        : {}),
    });
    results.push(
      ...(await runStripeReconciliation(deps, {
        ...(options.dates?.stripe ? { date: options.dates.stripe } : {}),
        ...(options.account ? { account: options.account } : {}),
        force: options.force ?? false,
      })),
    );
  }
  for (const result of results) {
    if (result.status === 'succeeded')
      metrics.count('UnhealedBreaks', result.breaks.unhealed, { provider: result.provider });
  }
  const reportFiles: Record<string, string> = {};
  for (const result of results) {
    const key = result.reportKeys?.files['breaks.csv'];
    if (key)
      reportFiles[`${result.provider}/${result.account || 'platform'}/${result.businessDate}`] =
        store.pathOf(key);
  }
  return {
    results,
    alerts: alerter.alerts,
    metrics,
    reportsDir: path.resolve(options.reportsDir),
    reportFiles,
  };
}

/** One line per run for the console: status, counts per class, where the report is. */
export function describeReconciliation(outcome: LocalReconResult): string {
  const lines: string[] = [];
  for (const r of outcome.results) {
    const who = `${r.provider} ${r.account || 'platform'} ${r.businessDate}`;
    if (r.status !== 'succeeded') {
      lines.push(
        `  ${who}: ${r.status}${r.error ? ` (${r.error.code}: ${r.error.message})` : r.reason ? ` (${r.reason})` : ''}`,
      );
      continue;
    }
    const classes = Object.entries(r.counts)
      .filter(([cls]) => cls !== 'matched')
      .map(([cls, n]) => `${cls}×${n}`)
      .join(' ');
    lines.push(
      `  ${who}: ${r.counts.matched ?? 0} matched, ${r.breaks.total} break(s) (${r.breaks.healed} healed, ${r.breaks.unhealed} unhealed)${classes ? `  ${classes}` : ''}`,
    );
    const file = outcome.reportFiles[`${r.provider}/${r.account || 'platform'}/${r.businessDate}`];
    if (file) lines.push(`      report ${path.dirname(file)}/`);
  }
  return lines.join('\n');
}

/**
 * GET /reports and GET /reports/{key+} on the local gateway, answering file:// links into the reports folder —
 * or, with `links`, signed links to the gateway's own download route (report-links.ts).
 */
export function localReportRoutes(reportsDir: string, links?: ReportLinks): Route[] {
  const folder = createFolderStore(reportsDir);
  const reports = createReports({ store: links ? links.wrap(folder) : folder, linkSeconds: 300 });
  return [
    { method: 'GET', path: '/reports', handler: reports },
    { method: 'GET', path: '/reports/{key+}', handler: reports },
  ];
}

export interface LocalConsistencyOptions {
  sql: Sql;
  /** The local stack's queue: resyncs take the consumer's path like any callback. */
  queue: Queue;
  /** The local stack's claim-check store (LocalStack.claims), for resyncs too large for one message. */
  claims?: ClaimStore;
  env: Env;
  providerApiUrl?: string;
  stripeApiKey?: string;
  providers?: readonly ('wechatpay' | 'stripe')[];
  logger: Logger;
  sampleSize?: number;
  windowHours?: number;
}

/** One consistency sampling run against the provider API sandbox (or the real APIs), as the scheduled functions do. */
export async function runLocalConsistency(
  options: LocalConsistencyOptions,
): Promise<{ samples: ConsistencySample[]; metrics: MemoryMetrics }> {
  const { env, sql, queue, claims, logger } = options;
  const metrics = new MemoryMetrics();
  const limits = {
    ...(options.sampleSize === undefined ? {} : { sampleSize: options.sampleSize }),
    ...(options.windowHours === undefined ? {} : { windowHours: options.windowHours }),
  };
  const samples: ConsistencySample[] = [];
  const providers = options.providers ?? ['wechatpay', 'stripe'];
  if (providers.includes('wechatpay')) {
    const baseUrl = options.providerApiUrl ?? env.WECHATPAY_API_BASE_URL;
    const clients = wechatpayClients({ ...(baseUrl ? { baseUrl } : {}), clock: systemClock });
    const deps = wechatpayConsistencyDeps({
      sql,
      queue,
      claims,
      logger,
      merchants: await merchantsFromEnv(env),
      clientFor: (merchant) => clients(merchant),
      ...limits,
    });
    samples.push(...(await runConsistencySampling(deps, 'wechatpay', metrics)));
  }
  if (providers.includes('stripe')) {
    const baseUrl = options.providerApiUrl ?? env.STRIPE_API_BASE_URL;
    const clients = stripeClients({
      apiKey: options.stripeApiKey ?? (await secret(env, 'STRIPE_API_KEY')),
      ...(baseUrl ? { baseUrl } : {}),
      clock: systemClock,
    });
    const deps = stripeConsistencyDeps({
      sql,
      queue,
      claims,
      logger,
      normalizer: stripeNormalizer(stripeNormalizerOptionsFromEnv(env)),
      retrieveApiFor: (account) => clients.retrieveApiFor(account),
      ...limits,
    });
    samples.push(...(await runConsistencySampling(deps, 'stripe', metrics)));
  }
  return { samples, metrics };
}
