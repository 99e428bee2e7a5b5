// The provider API clients, built in one place: a WeChat Pay client per merchant (recon, the pending-order
// sweep, the CLI's backfill) and the Stripe clients of the platform and its connected accounts (recon, backfill).
// Each is typed as the ports it serves, so the compiler checks the client against them.
import type { Clock } from '@payhooks/core/ports';
import { StripeClient } from '@payhooks/core/providers/stripe';
import type { Merchant } from '@payhooks/core/providers/wechatpay';
import { WechatpayClient } from '@payhooks/core/providers/wechatpay';
import type {
  StripeReportApi,
  StripeRetrieveApi,
  WechatpayBillApi,
  WechatpayQueryApi,
} from '@payhooks/core/recon/run';
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

export interface StripeApiOptions {
  apiKey: string;
  /** The provider API sandbox or another base URL (API and files); default api.stripe.com / files.stripe.com. */
  baseUrl?: string;
  clock: Clock;
}

export function stripeApiBaseUrlFromEnv(env: Env): { baseUrl?: string } {
  return env.STRIPE_API_BASE_URL ? { baseUrl: env.STRIPE_API_BASE_URL } : {};
}

export interface StripeClients {
  /** Report runs are created by the platform. */
  reportApi: StripeReportApi;
  /** Objects of a connected account are retrieved as that account; '' is the platform. */
  retrieveApiFor(account: string): StripeRetrieveApi;
}

export function stripeClient(options: StripeApiOptions, account?: string): StripeClient {
  return new StripeClient({
    apiKey: options.apiKey,
    clock: options.clock,
    ...(options.baseUrl ? { apiBaseUrl: options.baseUrl, filesBaseUrl: options.baseUrl } : {}),
    ...(account ? { stripeAccount: account } : {}),
  });
}

export function stripeClients(options: StripeApiOptions): StripeClients {
  const platform = stripeClient(options);
  const connected = new Map<string, StripeRetrieveApi>();
  const reportApi: StripeReportApi = platform;
  return {
    reportApi,
    retrieveApiFor(account) {
      if (account === '') return platform;
      let client = connected.get(account);
      if (!client) {
        client = stripeClient(options, account);
        connected.set(account, client);
      }
      return client;
    },
  };
}
