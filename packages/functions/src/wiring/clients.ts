// The provider API clients, built in one place: a WeChat Pay client per merchant (recon, the pending-order
// sweep, the CLI's backfill) and the Stripe clients of the platform and its connected accounts (recon, backfill).
// Each is typed as the ports it serves, so the compiler checks the client against them.
import { ConfigError } from '@payhooks/core/errors';
import type { Clock } from '@payhooks/core/ports';
import { StripeClient } from '@payhooks/core/providers/stripe';
import type { StripeReportApi, StripeRetrieveApi } from '@payhooks/core/recon/run';
import type { Env } from '../config.ts';
import { parseStripeApiKeys } from './stripe-accounts.ts';

// WeChat Pay's clients live apart so the sweep's import path carries no stripe-node (cold start).
export {
  type WechatpayApiOptions,
  type WechatpayReconApi,
  wechatpayApiOptionsFromEnv,
  wechatpayClients,
} from './wechatpay-clients.ts';

export interface StripeApiOptions {
  /** The default account's key (its own objects are booked as '', its Connect accounts' as acct_…). */
  apiKey: string;
  /** Independent Stripe accounts' keys by configured id (STRIPE_API_KEY's object form, stripe-accounts.ts). */
  accountKeys?: ReadonlyMap<string, string>;
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
  /** The report API of a ledger account: an independent account's own key, else the default platform's. */
  reportApiFor(account: string): StripeReportApi;
  /**
   * Objects of a ledger account: '' the default platform, a configured id that account (its own key), acct_… a
   * connected account of the default platform (Stripe-Account header).
   */
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
  const independent = new Map(
    [...(options.accountKeys ?? [])].map(([id, apiKey]) => [id, stripeClient({ ...options, apiKey })]),
  );
  const connected = new Map<string, StripeRetrieveApi>();
  const reportApi: StripeReportApi = platform;
  return {
    reportApi,
    reportApiFor: (account) => independent.get(account) ?? platform,
    retrieveApiFor(account) {
      if (account === '') return platform;
      const own = independent.get(account);
      if (own) return own;
      let client = connected.get(account);
      if (!client) {
        client = stripeClient(options, account);
        connected.set(account, client);
      }
      return client;
    },
  };
}

/**
 * The client that lists one ledger account's events (backfill) from STRIPE_API_KEY in either form: a configured
 * account id with its own key, acct_… as a Connect account of the default account, none the default account.
 */
export function stripeClientForAccount(
  apiKeyText: string,
  account: string | undefined,
  options: Omit<StripeApiOptions, 'apiKey' | 'accountKeys'>,
): StripeClient {
  const keys = parseStripeApiKeys(apiKeyText);
  const own = account ? keys.named.get(account) : undefined;
  if (own) return stripeClient({ ...options, apiKey: own });
  if (keys.default === undefined)
    throw new ConfigError(
      'CONFIG_INVALID',
      `STRIPE_API_KEY: no key for ${account ? `account "${account}"` : 'the default account'}`,
    );
  return stripeClient({ ...options, apiKey: keys.default }, account);
}
