// The operations function's actions: failure reasons, a reconciliation run, backfills and a health check, each
// with the same core code as the scheduled jobs and the consumer, run inside the VPC with the app database role.
import { backfillStripe } from '@payhooks/core/backfill/stripe';
import { backfillWechatpay } from '@payhooks/core/backfill/wechatpay';
import type { ClaimStore } from '@payhooks/core/envelope';
import { PayhooksError } from '@payhooks/core/errors';
import { latestDeliveryFailures, type Sql } from '@payhooks/core/ledger';
import type { Logger, ObjectStore, Queue } from '@payhooks/core/ports';
import { systemClock } from '@payhooks/core/ports';
import { checkBusinessDate, type ReconcileResult } from '@payhooks/core/recon/run';
import { MemoryAlerter } from '../adapters/alerts.ts';
import { MemoryMetrics } from '../adapters/metrics.ts';
import { type Env, secret } from '../config.ts';
import { runStripeReconciliation } from '../reconciliation/stripe.ts';
import { runWechatpayReconciliation } from '../reconciliation/wechatpay.ts';
import { stripeApiBaseUrlFromEnv, stripeClientForAccount } from '../wiring/clients.ts';
import { merchantsFromEnv } from '../wiring/merchants.ts';
import { reconStripeDepsFromEnv, reconWechatpayDepsFromEnv } from '../wiring/recon.ts';
import { stageFindingsFromEnv, takesWechatpay } from '../wiring/stage-guard.ts';
import { healersFor } from '../wiring/sweep.ts';
import {
  type DoctorCheck,
  type OperationRequest,
  type OperationResponse,
  operationRequestSchema,
} from './protocol.ts';

export interface OperationsDeps {
  sql: Sql;
  env: Env;
  logger: Logger;
  /** The reports bucket (recon runs). */
  store: () => ObjectStore;
  /** The main queue (backfills enqueue through the consumer's path). */
  queue: () => Queue;
  /** The claim-check store for backfilled events whose envelope exceeds one queue message. */
  claims?: () => ClaimStore | undefined;
}

/** A reconciliation result without its per-item detail: what the CLI prints. */
function summarize(r: ReconcileResult) {
  return {
    provider: r.provider,
    account: r.account,
    businessDate: r.businessDate,
    status: r.status,
    counts: r.counts,
    breaks: r.breaks,
    ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}),
    ...(r.reportKeys ? { reportKey: r.reportKeys.pointerKey } : {}),
  };
}

async function doctor(deps: OperationsDeps): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const check = async (name: string, run: () => Promise<string>) => {
    try {
      checks.push({ name, ok: true, detail: await run() });
    } catch (error) {
      const code = error instanceof PayhooksError ? error.code : (error as Error).name;
      checks.push({ name, ok: false, detail: `${code}: ${(error as Error).message}` });
    }
  };
  await check('database', async () => {
    const [row] = await deps.sql<{ role: string; latest: string | null }[]>`
      select current_user as role, (select name from migrations order by id desc limit 1) as latest`;
    return `connected as ${row!.role}; latest migration ${row!.latest ?? 'none'}`;
  });
  await check('delivery failures (24 h)', async () => {
    const [row] = await deps.sql<{ n: bigint }[]>`
      select count(*) as n from delivery_failures where failed_at > now() - interval '24 hours'`;
    return `${row!.n} failed attempt(s) recorded`;
  });
  await check('stripe api key', async () => {
    await secret(deps.env, 'STRIPE_API_KEY');
    return 'configured';
  });
  await check('wechatpay merchants', async () => {
    if (!takesWechatpay(deps.env)) return 'not taken by this stage (Stripe only)';
    const registry = await merchantsFromEnv(deps.env);
    return `${registry.merchants.length} merchant(s) configured`;
  });
  // The deploy-time and cold-start stage rule (live/test keys against the stage's declared mode).
  await check('stage mode and keys', async () => {
    const findings = await stageFindingsFromEnv(deps.env, {
      service: 'operations',
      secrets: ['STRIPE_API_KEY'],
      ...(takesWechatpay(deps.env) ? { merchants: () => merchantsFromEnv(deps.env) } : {}),
    });
    if (findings.length > 0)
      throw new PayhooksError(findings[0]!.code, findings.map((f) => f.message).join('; '));
    return `stage mode ${deps.env.PAYHOOKS_STAGE_MODE ?? '(not set)'} agrees with the keys`;
  });
  return checks;
}

async function act(deps: OperationsDeps, request: ReturnType<typeof operationRequestSchema.parse>) {
  const { env, sql, logger } = deps;
  switch (request.action) {
    case 'failures':
      return [
        ...(
          await latestDeliveryFailures(sql, { events: request.events, messageIds: request.messageIds })
        ).values(),
      ];
    case 'recon-run': {
      if (request.date) checkBusinessDate(request.date);
      const parts = {
        sql,
        store: deps.store(),
        logger,
        metrics: new MemoryMetrics(),
        alerter: new MemoryAlerter(),
      };
      const event = {
        ...(request.date ? { date: request.date } : {}),
        ...(request.account ? { account: request.account } : {}),
        force: request.force,
      };
      const results =
        request.provider === 'wechatpay'
          ? await runWechatpayReconciliation(await reconWechatpayDepsFromEnv(env, parts), event)
          : await runStripeReconciliation(await reconStripeDepsFromEnv(env, parts), event);
      return results.map(summarize);
    }
    case 'backfill-stripe': {
      // STRIPE_API_KEY may hold a key per account: the account's own key, as the CLI's local backfill does.
      const client = stripeClientForAccount(await secret(env, 'STRIPE_API_KEY'), request.account, {
        clock: systemClock,
        ...stripeApiBaseUrlFromEnv(env),
      });
      return backfillStripe({
        source: client,
        queue: deps.queue(),
        claims: deps.claims?.(),
        since: new Date(request.since),
        ...(request.until ? { until: new Date(request.until) } : {}),
        ...(request.account ? { account: request.account } : {}),
        dryRun: request.dryRun,
        now: new Date(),
      });
    }
    case 'backfill-wechatpay': {
      const now = Date.now();
      return backfillWechatpay({
        sql,
        queue: deps.queue(),
        claims: deps.claims?.(),
        healerFor: healersFor(
          await merchantsFromEnv(env),
          env.WECHATPAY_API_BASE_URL ? { baseUrl: env.WECHATPAY_API_BASE_URL } : {},
        ),
        createdAfter: request.since ? new Date(request.since) : new Date(now - 7 * 86_400_000),
        createdBefore: new Date(now - request.olderThanMinutes * 60_000),
        dryRun: request.dryRun,
      });
    }
    case 'doctor':
      return doctor(deps);
  }
}

export function createOperations(deps: OperationsDeps): (event: unknown) => Promise<OperationResponse> {
  return async (event) => {
    const parsed = operationRequestSchema.safeParse(event);
    if (!parsed.success)
      return {
        ok: false,
        code: 'OPERATIONS_BAD_REQUEST',
        message: parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; '),
      };
    const request = parsed.data;
    deps.logger.info('operation requested', { action: request.action });
    try {
      return { ok: true, action: request.action, result: await act(deps, request) };
    } catch (error) {
      // On purpose (configuration, a bad date, a provider refusal): one line for the operator. Anything else is a
      // bug or an outage and fails the invocation, so its stack is in the function's log.
      if (error instanceof PayhooksError) return { ok: false, code: error.code, message: error.message };
      throw error;
    }
  };
}

export type { OperationRequest };
