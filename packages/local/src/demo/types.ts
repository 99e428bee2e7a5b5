// The shapes of `npm start` as a function: its options, what it returns, and the breaks it plants on purpose.
import type { Env } from '@payhooks/functions/config';
import type { ProviderSandbox } from '@payhooks/testkit/sandbox/provider-api';
import type { CheckReport } from '../check.ts';
import type { ConsoleUser } from '../console.ts';
import type { LocalReconResult } from '../local-reconciliation.ts';
import type { LocalStack } from '../stack.ts';

/** The Stripe Connect account the demo sends traffic for besides the platform. */
export const CONNECTED_ACCOUNT = 'acct_1SandboxConnected';

export interface LocalDemoOptions {
  /** Folder for data, logs, reports and local.json. */
  stateDir: string;
  /** Gateway port (0: a free one). */
  port: number;
  /** External database instead of the embedded one. */
  databaseUrl?: string;
  pgPort?: number;
  fastPostgres?: boolean;
  /** Endpoint secrets accepted besides the sandbox's own (e.g. from `stripe listen`). */
  extraStripeSecrets?: readonly string[];
  /** Your own WeChat Pay merchants: the sandbox then sends and reconciles no WeChat Pay traffic. */
  wechatpayMerchantsFile?: string;
  /** Default `<stateDir>/reports`. */
  reportsDir?: string;
  consumerConcurrency?: number;
  seed: number;
  stripePayments: number;
  connectPayments?: number;
  wechatpayPayments: number;
  /** "Now" for the nightly run: the traffic is placed on yesterday of this instant. Default: the clock. */
  now?: Date;
  /** Extra handler environment. */
  env?: Env;
  log?: (text: string) => void;
}

/** One break the reconciliation must report: its class before healing, the object, and whether it healed. */
export interface ExpectedBreak {
  provider: 'wechatpay' | 'stripe';
  /** WeChat mchid, Stripe `''` (platform) or `acct_…`. */
  account: string;
  class: string;
  kind: 'payment' | 'refund';
  id: string;
  healed: boolean;
  why: string;
}

export type ReconCheck = CheckReport & { matchedRefunds: Record<string, number> };

export interface LocalDemo {
  ok: boolean;
  stack: LocalStack;
  sandbox: ProviderSandbox;
  localJson: string;
  reportsDir: string;
  reportsToken: string;
  /** The console's local users (local.json's consoleUsers). */
  consoleUsers: ConsoleUser[];
  dates: { wechatpay: string; stripe: string };
  stripeCheck: CheckReport;
  wechatpayCheck: CheckReport | undefined;
  dlqDepth: number;
  recon: LocalReconResult;
  expectedBreaks: ExpectedBreak[];
  reconCheck: ReconCheck;
  stop(): Promise<void>;
}
