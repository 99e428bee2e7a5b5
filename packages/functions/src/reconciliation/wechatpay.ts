// WeChat Pay reconciliation of one business date (Asia/Shanghai): for each configured merchant, trade bill (ALL)
// + fund-flow bill (BASIC) [+ encrypted sub-merchant fund-flow bills for service providers], verified and
// streamed into staging, matched, healed through the consumer's path, reported. A succeeded date is a no-op
// unless `force`. Dependencies are built in wiring/recon.ts.
import type { Sql } from '@payhooks/core/ledger';
import type { Clock, Logger, Metrics, ObjectStore } from '@payhooks/core/ports';
import type { Merchant, MerchantRegistry } from '@payhooks/core/providers/wechatpay';
import {
  type ReconcileResult,
  type ReconProgress,
  reconcile,
  subMerchantFromMirror,
  wechatpayHealer,
  wechatpaySource,
} from '@payhooks/core/recon/run';
import type { Alerter } from '../adapters/alerts.ts';
import { UnknownMerchantError } from '../errors.ts';
import type { WechatpayReconApi } from '../wiring/clients.ts';
import { wechatpayNormalizer } from '../wiring/normalizers.ts';
import { businessDateFor, type ReconEvent } from './outcome.ts';

export type { WechatpayReconApi };

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
  if (!merchant) throw new UnknownMerchantError(wanted);
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
          // A sub-merchant's break is asked through the partner queries: its bill line names the sub-merchant;
          // a ledger-side break (no line) takes it from the mirror.
          healer: wechatpayHealer(
            client,
            { id: merchant.id, mchid: merchant.mchid, apiv3Key: merchant.apiv3Key },
            deps.clock,
            { subMerchantOf: subMerchantFromMirror(deps.sql, merchant.mchid) },
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
