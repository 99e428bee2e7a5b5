// The pending-order sweep's dependencies: a WeChat Pay healer per configured merchant (also the CLI's
// `backfill wechatpay`), and the scheduled handler from the environment.
import type { WechatpayBackfillResult } from '@payhooks/core/backfill/wechatpay';
import { createLogger } from '@payhooks/core/logger';
import { type Clock, systemClock } from '@payhooks/core/ports';
import type { MerchantRegistry } from '@payhooks/core/providers/wechatpay';
import { type Healer, wechatpayHealer } from '@payhooks/core/recon/run';
import { metricsFor } from '../adapters/metrics.ts';
import { sqsSenderFromEnv } from '../adapters/sqs-send.ts';
import { type Env, integer, once } from '../config.ts';
import { SweepFailedError } from '../errors.ts';
import { sweepPendingOrders } from '../sweep/pending-orders.ts';
import { claimStoreFromEnv } from './claim-check.ts';
import { sqlFromEnv } from './db.ts';
import { merchantsFromEnv } from './merchants.ts';
import { wechatpayClients } from './wechatpay-clients.ts';

/** One healer per configured merchant; orders without an account belong to the only merchant, if there is one. */
export function healersFor(
  registry: MerchantRegistry,
  options: { baseUrl?: string; clock?: Clock } = {},
): (account: string) => Healer | undefined {
  const clock = options.clock ?? systemClock;
  const clientFor = wechatpayClients({ ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}), clock });
  const healers = new Map(
    registry.merchants.map((merchant) => [
      merchant.id,
      wechatpayHealer(
        clientFor(merchant),
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

export function createSweepHandler(env: Env): () => Promise<WechatpayBackfillResult> {
  const logger = createLogger({ name: 'sweep-wechatpay' });
  const metrics = metricsFor('sweep-wechatpay', env);
  const setup = once(async () => ({
    sql: sqlFromEnv(env, 'payhooks-sweep'),
    // The webhooks' lean signed SendMessage: no SDK client on the sweep's import path (cold start).
    queue: sqsSenderFromEnv(env),
    claims: claimStoreFromEnv(env),
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
    if (result.errors.length > 0) throw new SweepFailedError(result.errors.length, result.errors[0]!.code);
    return result;
  };
}
