// Reads configuration from an environment object (process.env in Lambda; an explicit object in the local
// runtime and tests, so several stacks can live in one process). Secrets bound with SST `Config.Secret` are
// resolved once per container from SSM through sst/node; a plain environment variable of the same name wins
// (local runtime, tests).
import { ConfigError } from '@payhooks/core/errors';

export type Env = Readonly<Record<string, string | undefined>>;

export function optional(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

export function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '')
    throw new ConfigError('CONFIG_MISSING', `environment variable ${name} is not set`);
  return value;
}

export function integer(env: Env, name: string, fallback: number): number {
  const text = optional(env, name, String(fallback));
  if (!/^\d+$/.test(text))
    throw new ConfigError('CONFIG_INVALID', `${name} must be a whole number, got "${text}"`);
  return Number(text);
}

/** Secrets bound through SST are marked by SST_Secret_value_<NAME>; the value itself lives in SSM. */
export async function secret(env: Env, name: string): Promise<string> {
  const direct = env[name];
  if (direct) return direct;
  if (env[`SST_Secret_value_${name}`] !== undefined) {
    const { Config } = (await import('sst/node/config')) as unknown as { Config: Record<string, string> };
    const value = Config[name];
    if (value) return value;
  }
  throw new ConfigError(
    'SECRET_MISSING',
    `secret ${name} is not set (npx sst secrets set ${name} … for this stage)`,
  );
}

export function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Memoises the per-container setup: keys parsed and clients created once, never on the request path. */
export function once<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((error) => {
      pending = undefined; // a failed cold start is retried on the next invocation
      throw error;
    });
    return pending;
  };
}

/**
 * One configuration problem, for checks that report every problem instead of failing at the first: `subject`
 * names the variable or file, `message` says what is wrong and never quotes a secret.
 */
export interface ConfigProblem {
  subject: string;
  message: string;
}

/** Stripe endpoint secrets: `whsec_` then a base64/base64url tail (what the Dashboard and `stripe listen` print). */
const STRIPE_ENDPOINT_SECRET = /^whsec_[A-Za-z0-9+/=_-]{8,}$/;

/** STRIPE_WEBHOOK_SECRETS: comma-separated endpoint secrets; the values themselves are never echoed. */
export function checkStripeWebhookSecrets(value: string | undefined): ConfigProblem[] {
  if (value === undefined || value.trim() === '') return [];
  const items = value.split(',').map((item) => item.trim());
  const problems: ConfigProblem[] = [];
  items.forEach((item, index) => {
    const which = items.length > 1 ? ` item ${index + 1} of ${items.length}` : '';
    if (item === '')
      problems.push({
        subject: 'STRIPE_WEBHOOK_SECRETS',
        message: `STRIPE_WEBHOOK_SECRETS${which} is empty`,
      });
    else if (!STRIPE_ENDPOINT_SECRET.test(item))
      problems.push({
        subject: 'STRIPE_WEBHOOK_SECRETS',
        message: `STRIPE_WEBHOOK_SECRETS${which} is not an endpoint secret (whsec_… as the Dashboard or \`stripe listen\` prints it, comma-separated)`,
      });
  });
  return problems;
}

/**
 * STRIPE_RECON_PAYOUT_RECONCILIATION: `false` skips Stripe's payout_reconciliation.itemized.5 report (accounts on
 * manual payouts, for which Stripe offers none); anything else (default) fetches it.
 */
export function payoutReconciliationFromEnv(env: Env): boolean {
  return env.STRIPE_RECON_PAYOUT_RECONCILIATION?.trim() !== 'false';
}

/** Settings that must be whole numbers when set (README, "Configuration"). */
export const WHOLE_NUMBER_SETTINGS = [
  'PORT',
  'PAYHOOKS_PG_PORT',
  'CONSUMER_CONCURRENCY',
  'DB_MAX_CONNECTIONS',
  'MAX_BODY_BYTES',
  'STRIPE_WEBHOOK_TOLERANCE_SECONDS',
  'RECON_TOLERANCE_MINUTES',
  'REPORT_LINK_SECONDS',
  'SWEEP_PENDING_MINUTES',
  'SWEEP_LOOKBACK_HOURS',
] as const;

const PORT_SETTINGS = new Set(['PORT', 'PAYHOOKS_PG_PORT']);
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * The environment's values, each on its own (no file or network access): whole numbers, ports, STRIPE_LIVEMODE,
 * LOG_LEVEL, the Stripe endpoint secrets and the shape of DATABASE_URL. Every problem is returned.
 */
export function checkEnvironmentValues(env: Env): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const name of WHOLE_NUMBER_SETTINGS) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (!/^\d+$/.test(value.trim()))
      problems.push({ subject: name, message: `${name} must be a whole number, got "${value}"` });
    else if (PORT_SETTINGS.has(name) && Number(value) > 65_535)
      problems.push({ subject: name, message: `${name} must be a port (0–65535), got ${value}` });
  }
  const livemode = env.STRIPE_LIVEMODE;
  if (livemode !== undefined && livemode !== '' && livemode !== 'true' && livemode !== 'false')
    problems.push({
      subject: 'STRIPE_LIVEMODE',
      message: `STRIPE_LIVEMODE must be true or false, got "${livemode}"`,
    });
  const payoutReconciliation = env.STRIPE_RECON_PAYOUT_RECONCILIATION;
  if (
    payoutReconciliation !== undefined &&
    payoutReconciliation !== '' &&
    payoutReconciliation !== 'true' &&
    payoutReconciliation !== 'false'
  )
    problems.push({
      subject: 'STRIPE_RECON_PAYOUT_RECONCILIATION',
      message: `STRIPE_RECON_PAYOUT_RECONCILIATION must be true or false, got "${payoutReconciliation}"`,
    });
  const level = env.LOG_LEVEL;
  if (level !== undefined && level !== '' && !LOG_LEVELS.includes(level))
    problems.push({ subject: 'LOG_LEVEL', message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` });
  problems.push(...checkStripeWebhookSecrets(env.STRIPE_WEBHOOK_SECRETS));
  problems.push(...checkDatabaseUrl(env.DATABASE_URL));
  return problems;
}

/** DATABASE_URL's shape (a postgres:// URL with a host); the URL is never echoed, it may hold a password. */
export function checkDatabaseUrl(value: string | undefined): ConfigProblem[] {
  if (value === undefined || value === '') return [];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [
      {
        subject: 'DATABASE_URL',
        message: 'DATABASE_URL is not a URL (postgres://user:password@host:port/db)',
      },
    ];
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    return [
      {
        subject: 'DATABASE_URL',
        message: `DATABASE_URL must start with postgres:// or postgresql://, not ${url.protocol}//`,
      },
    ];
  if (url.hostname === '') return [{ subject: 'DATABASE_URL', message: 'DATABASE_URL names no host' }];
  return [];
}

/** Why a database connection failed, in words an operator acts on (never the URL: it may hold a password). */
export function describeDatabaseError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  switch (code) {
    case 'ECONNREFUSED':
      return 'nothing accepts connections there';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'TIMEOUT':
    case 'CONNECT_TIMEOUT':
      return 'no answer within 8 s';
    case '28P01':
    case '28000':
      return 'authentication failed (user or password)';
    case '3D000':
      return 'the database does not exist';
    default:
      return code ? `connection failed (${code})` : `connection failed (${message ?? 'unknown error'})`;
  }
}
