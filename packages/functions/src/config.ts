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
