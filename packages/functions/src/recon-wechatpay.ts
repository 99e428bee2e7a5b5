// Lambda: nightly WeChat Pay reconciliation (EventBridge, 10:30–12:00 Asia/Shanghai). For each configured merchant:
// trade bill (ALL) + fund-flow bill (BASIC) [+ encrypted sub-merchant fund-flow bills for service providers] for
// yesterday in Asia/Shanghai, verified and streamed into staging, matched, healed through the consumer's path,
// reported. A succeeded date is a no-op unless `force`; "bill not ready" stays quiet until the last attempt.
import type { Sql } from '@payhooks/core/ledger';
import type { Clock, Logger, Metrics, ObjectStore } from '@payhooks/core/ports';
import type { Merchant, MerchantRegistry } from '@payhooks/core/providers/wechatpay';
import { WechatpayClient } from '@payhooks/core/providers/wechatpay/client';
import {
  type ReconcileResult,
  type ReconProgress,
  reconcile,
  type WechatpayBillApi,
  type WechatpayQueryApi,
  wechatpayHealer,
  wechatpaySource,
} from '@payhooks/core/recon/run/index';
import type { Alerter } from './adapters/alerts.ts';
import { type Env, once } from './config.ts';
import { wechatpayNormalizer } from './consumer.ts';
import { businessDateFor, commonReconDeps, type ReconEvent, reconHandler } from './recon.ts';
import { merchantsFromEnv } from './wechatpay-merchants.ts';

export type WechatpayReconApi = WechatpayBillApi & WechatpayQueryApi;

export interface ReconWechatpayDeps {
  sql: Sql;
  store: ObjectStore;
  merchants: MerchantRegistry;
  clientFor(merchant: Merchant): WechatpayReconApi;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  alerter: Alerter;
  toleranceMinutes?: number;
  reportsLocation?: string;
  onProgress?: (merchant: Merchant, progress: ReconProgress) => void;
}

export function selectMerchants(registry: MerchantRegistry, wanted: string | undefined): Merchant[] {
  if (!wanted) return [...registry.merchants];
  const merchant = registry.byId(wanted) ?? registry.byMchid(wanted);
  if (!merchant) throw new Error(`no WeChat Pay merchant "${wanted}" is configured (id or mchid)`);
  return [merchant];
}

/** Reconciles one business date for the selected merchants; never throws for a merchant's data problem. */
export async function runWechatpayReconciliation(
  deps: ReconWechatpayDeps,
  event: ReconEvent = {},
): Promise<ReconcileResult[]> {
  const businessDate = businessDateFor('wechatpay', event, deps.clock);
  const normalizer = wechatpayNormalizer(deps.merchants);
  const results: ReconcileResult[] = [];
  for (const merchant of selectMerchants(deps.merchants, event.merchant ?? event.account)) {
    const client = deps.clientFor(merchant);
    results.push(
      await reconcile(
        {
          sql: deps.sql,
          store: deps.store,
          clock: deps.clock,
          logger: deps.logger,
          normalizer,
          healer: wechatpayHealer(
            client,
            { id: merchant.id, mchid: merchant.mchid, apiv3Key: merchant.apiv3Key },
            deps.clock,
          ),
          ...(deps.toleranceMinutes === undefined ? {} : { toleranceMinutes: deps.toleranceMinutes }),
          ...(deps.onProgress ? { onProgress: (p: ReconProgress) => deps.onProgress!(merchant, p) } : {}),
        },
        {
          source: wechatpaySource(client, {
            mchid: merchant.mchid,
            serviceProvider: merchant.serviceProvider,
            privateKey: merchant.privateKey,
            businessDate,
          }),
          businessDate,
          force: event.force ?? false,
        },
      ),
    );
  }
  return results;
}

export function wechatpayClientFactory(env: Env, clock: Clock): (merchant: Merchant) => WechatpayReconApi {
  const clients = new Map<string, WechatpayClient>();
  return (merchant) => {
    let client = clients.get(merchant.id);
    if (!client) {
      client = new WechatpayClient({
        merchant,
        clock,
        ...(env.WECHATPAY_API_BASE_URL ? { baseUrl: env.WECHATPAY_API_BASE_URL, failoverBaseUrl: null } : {}),
      });
      clients.set(merchant.id, client);
    }
    return client as unknown as WechatpayReconApi;
  };
}

export async function reconWechatpayDepsFromEnv(
  env: Env,
  overrides: Partial<ReconWechatpayDeps> = {},
): Promise<ReconWechatpayDeps> {
  const common = commonReconDeps('recon-wechatpay', env, overrides);
  return {
    ...common,
    merchants: overrides.merchants ?? (await merchantsFromEnv(env)),
    clientFor: overrides.clientFor ?? wechatpayClientFactory(env, common.clock),
    ...(overrides.onProgress ? { onProgress: overrides.onProgress } : {}),
  };
}

export function createReconWechatpayHandler(env: Env, overrides: Partial<ReconWechatpayDeps> = {}) {
  return reconHandler(
    'wechatpay',
    once(() => reconWechatpayDepsFromEnv(env, overrides)),
    runWechatpayReconciliation,
  );
}

export const handler = createReconWechatpayHandler(process.env);
