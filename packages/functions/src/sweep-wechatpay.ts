// Lambda (every 15 minutes): the pending-order sweep. Merchant orders still unpaid in the ledger some minutes
// after they were created are queried at WeChat Pay; paid ones go through the normal queue path, so a lost
// notification heals itself within the hour. The CLI's `backfill wechatpay` runs the same code over any window.
import { backfillWechatpay, type WechatpayBackfillResult } from '@payhooks/core/backfill/wechatpay';
import type { Sql } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import { type Clock, type Queue, systemClock } from '@payhooks/core/ports';
import { type MerchantRegistry, WechatpayClient } from '@payhooks/core/providers/wechatpay';
import { type Healer, wechatpayHealer } from '@payhooks/core/recon/run/heal';
import { sqlFromEnv } from './adapters/db.ts';
import { metricsFor } from './adapters/metrics.ts';
import { queueFromEnv } from './adapters/sqs.ts';
import { type Env, integer, once } from './config.ts';
import { merchantsFromEnv } from './wechatpay-merchants.ts';

/** One healer per configured merchant; orders without an account belong to the only merchant, if there is one. */
export function healersFor(
  registry: MerchantRegistry,
  options: { baseUrl?: string; clock?: Clock } = {},
): (account: string) => Healer | undefined {
  const clock = options.clock ?? systemClock;
  const healers = new Map(
    registry.merchants.map((merchant) => [
      merchant.id,
      wechatpayHealer(
        new WechatpayClient({
          merchant,
          clock,
          ...(options.baseUrl ? { baseUrl: options.baseUrl, failoverBaseUrl: null } : {}),
        }),
        { id: merchant.id, mchid: merchant.mchid, apiv3Key: merchant.apiv3Key },
        clock,
      ),
    ]),
  );
  // merchant_orders.account is the mchid (as in payments); a configuration id is accepted too.
  return (account) => {
    if (!account) return registry.merchants.length === 1 ? healers.get(registry.merchants[0]!.id) : undefined;
    return healers.get(registry.byMchid(account)?.id ?? account);
  };
}

export interface SweepDeps {
  sql: Sql;
  queue: Queue;
  healerFor: (account: string) => Healer | undefined;
  clock: Clock;
  pendingMinutes: number;
  lookbackHours: number;
}

export async function sweepPendingOrders(deps: SweepDeps): Promise<WechatpayBackfillResult> {
  const now = deps.clock.now().getTime();
  return backfillWechatpay({
    sql: deps.sql,
    queue: deps.queue,
    healerFor: deps.healerFor,
    createdAfter: new Date(now - deps.lookbackHours * 3_600_000),
    createdBefore: new Date(now - deps.pendingMinutes * 60_000),
  });
}

export function createSweepHandler(env: Env): () => Promise<WechatpayBackfillResult> {
  const logger = createLogger({ name: 'sweep-wechatpay' });
  const metrics = metricsFor('sweep-wechatpay', env);
  const setup = once(async () => ({
    sql: sqlFromEnv(env, 'payhooks-sweep'),
    queue: queueFromEnv(env),
    healerFor: healersFor(
      await merchantsFromEnv(env),
      env.WECHATPAY_API_BASE_URL ? { baseUrl: env.WECHATPAY_API_BASE_URL } : {},
    ),
    clock: systemClock,
    pendingMinutes: integer(env, 'SWEEP_PENDING_MINUTES', 10),
    lookbackHours: integer(env, 'SWEEP_LOOKBACK_HOURS', 24),
  }));
  return async () => {
    const result = await sweepPendingOrders(await setup());
    metrics.count('SweepRecovered', result.enqueued, { provider: 'wechatpay' });
    logger.info('pending-order sweep finished', { ...result, errors: result.errors.length });
    // Errors other than "still unpaid" make the invocation fail, so the sweep-errors alarm sees them.
    if (result.errors.length > 0)
      throw new Error(`sweep could not query ${result.errors.length} order(s): ${result.errors[0]!.code}`);
    return result;
  };
}

export const handler = createSweepHandler(process.env);
