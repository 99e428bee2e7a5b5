// WeChat Pay's API clients, one per merchant (recon, the pending-order sweep, the CLI's backfill), typed as the
// ports they serve. Apart from clients.ts so that a WeChat Pay handler's import path has no stripe-node.
import type { Clock } from '@payhooks/core/ports';
import type { Merchant } from '@payhooks/core/providers/wechatpay';
import { WechatpayClient } from '@payhooks/core/providers/wechatpay';
import type { WechatpayBillApi, WechatpayQueryApi } from '@payhooks/core/recon/run';
import type { Env } from '../config.ts';

/** What reconciliation and the sweep ask of WeChat Pay: bills to download and orders/refunds to query. */
export type WechatpayReconApi = WechatpayBillApi & WechatpayQueryApi;

export interface WechatpayApiOptions {
  /** The provider API sandbox or another base URL; default WeChat Pay's own hosts with failover. */
  baseUrl?: string;
  clock: Clock;
}

export function wechatpayApiOptionsFromEnv(env: Env, clock: Clock): WechatpayApiOptions {
  return env.WECHATPAY_API_BASE_URL ? { baseUrl: env.WECHATPAY_API_BASE_URL, clock } : { clock };
}

/** One client per merchant, created on first use and kept for the container's lifetime. */
export function wechatpayClients(options: WechatpayApiOptions): (merchant: Merchant) => WechatpayReconApi {
  const clients = new Map<string, WechatpayReconApi>();
  return (merchant) => {
    let client = clients.get(merchant.id);
    if (!client) {
      const created: WechatpayReconApi = new WechatpayClient({
        merchant,
        clock: options.clock,
        ...(options.baseUrl ? { baseUrl: options.baseUrl, failoverBaseUrl: null } : {}),
      });
      client = created;
      clients.set(merchant.id, client);
    }
    return client;
  };
}
