// Everything the demo decides before it starts anything: the business dates (yesterday in each provider's zone),
// where the traffic is placed in them, the sandbox's fresh secrets, and the WeChat Pay merchants it signs for.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { businessWindow, previousBusinessDate } from '@payhooks/core/recon/run';
import { randomStripeSecretKey } from '@payhooks/testkit/sandbox/provider-api';
import { randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  generateSandboxMerchants,
  type SandboxMerchants,
  writeMerchantsFile,
} from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { type ConsoleUser, generateConsoleUsers } from '../console.ts';
import type { LocalDemoOptions } from './types.ts';

export interface DemoPlan {
  stateDir: string;
  seed: number;
  dates: { wechatpay: string; stripe: string };
  /** Unix seconds where each provider's burst starts: mid-day, so it stays far from midnight. */
  stripeStart: number;
  wechatpayStart: number;
  sandboxSecrets: readonly [string, string];
  /** The sandbox's generated merchants; undefined when the options name merchants of your own. */
  wechatpaySandbox: SandboxMerchants | undefined;
  wechatpayMerchantsFile: string;
  reportsDir: string;
  reportsToken: string;
  /** The bearer token of the local order-status API (GET /orders/…), IAM's stand-in; written to local.json. */
  ordersToken: string;
  /** The provider sandbox's own Stripe test key: it opens nothing but the sandbox. */
  stripeApiKey: string;
  localJson: string;
  /** The console's local users (one finance, one ops) with fresh passwords, written to local.json. */
  consoleUsers: ConsoleUser[];
}

/** Decides the plan and writes the generated merchants file (unless the options name one of your own). */
export async function prepareDemo(options: LocalDemoOptions): Promise<DemoPlan> {
  const stateDir = path.resolve(options.stateDir);
  const now = options.now ?? new Date();
  const dates = {
    wechatpay: previousBusinessDate('wechatpay', now),
    stripe: previousBusinessDate('stripe', now),
  };
  const midday = (provider: 'wechatpay' | 'stripe') =>
    Math.floor(businessWindow(provider, dates[provider]).start.getTime() / 1000) + 12 * 3600;
  const wechatpaySandbox = options.wechatpayMerchantsFile ? undefined : await generateSandboxMerchants();
  const wechatpayMerchantsFile =
    options.wechatpayMerchantsFile ??
    (await writeMerchantsFile(
      path.join(stateDir, 'wechatpay', 'merchants.json'),
      wechatpaySandbox!.document,
    ));
  return {
    stateDir,
    seed: options.seed,
    dates,
    stripeStart: midday('stripe'),
    wechatpayStart: midday('wechatpay'),
    sandboxSecrets: [randomWebhookSecret(), randomWebhookSecret()],
    wechatpaySandbox,
    wechatpayMerchantsFile,
    reportsDir: path.resolve(options.reportsDir ?? path.join(stateDir, 'reports')),
    reportsToken: randomBytes(24).toString('base64url'),
    ordersToken: randomBytes(24).toString('base64url'),
    stripeApiKey: randomStripeSecretKey(),
    localJson: path.join(stateDir, 'local.json'),
    consoleUsers: generateConsoleUsers(),
  };
}
