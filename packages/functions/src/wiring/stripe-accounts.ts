// Several independent Stripe accounts in one deployment. Each secret keeps its name and its functions (secrets by
// need): STRIPE_WEBHOOK_SECRETS holds endpoint secrets (webhook only), STRIPE_API_KEY API keys (recon, backfill).
// Either is the single-account form of before — `whsec_a,whsec_b` / `rk_…` — for the default account, or a JSON
// object by account id: `{"default":["whsec_…"],"eu":["whsec_…"]}` / `{"default":"rk_…","eu":"rk_…"}`. The id is
// the `{account}` of `POST /webhooks/stripe/{account}` and the ledger's account for that account's own objects
// ("default" is the bare path's account and books as '', as before). Messages never echo a value.
import { ConfigError } from '@payhooks/core/errors';
import { DEFAULT_STRIPE_ACCOUNT } from '@payhooks/core/ingress/stripe';
import { list } from '../config.ts';

const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Endpoint secrets (or API keys) per account: the default account's, and the named accounts' by id. */
export interface StripeAccountValues<V> {
  default: V | undefined;
  named: ReadonlyMap<string, V>;
}

function invalid(variable: string, problem: string): never {
  throw new ConfigError('CONFIG_INVALID', `${variable}: ${problem}`);
}

function parseObject(variable: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse messages quote the input, which is a secret.
    invalid(variable, 'starts with "{" but is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    invalid(variable, 'must be a JSON object of account id → value');
  return value as Record<string, unknown>;
}

function accountValues<V>(
  variable: string,
  text: string,
  single: (text: string) => V,
  entry: (id: string, value: unknown) => V,
): StripeAccountValues<V> {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return { default: single(trimmed), named: new Map() };
  const named = new Map<string, V>();
  let defaultValue: V | undefined;
  for (const [id, value] of Object.entries(parseObject(variable, trimmed))) {
    if (!ACCOUNT_ID.test(id))
      invalid(variable, `account id "${id.slice(0, 64)}" must be 1–64 of A-Z a-z 0-9 _ -`);
    // Connect accounts are booked as acct_…: a configured id must not be mistaken for one.
    if (id.startsWith('acct_'))
      invalid(variable, `account id "${id}" must not start with acct_ (that is a Connect account's id)`);
    const parsed = entry(id, value);
    if (id === DEFAULT_STRIPE_ACCOUNT) defaultValue = parsed;
    else named.set(id, parsed);
  }
  if (defaultValue === undefined && named.size === 0) invalid(variable, 'names no account');
  return { default: defaultValue, named };
}

/** STRIPE_WEBHOOK_SECRETS: the endpoint secrets of each account (several per account during a rotation). */
export function parseStripeWebhookSecrets(text: string): StripeAccountValues<string[]> {
  const variable = 'STRIPE_WEBHOOK_SECRETS';
  return accountValues(variable, text, list, (id, value) => {
    const secrets = typeof value === 'string' ? list(value) : Array.isArray(value) ? value : undefined;
    if (!secrets || secrets.length === 0 || !secrets.every((s) => typeof s === 'string' && s.trim() !== ''))
      invalid(variable, `account "${id}" needs a non-empty list of endpoint secrets`);
    return secrets.map((s: string) => s.trim());
  });
}

/** STRIPE_API_KEY: the API key of each account. */
export function parseStripeApiKeys(text: string): StripeAccountValues<string> {
  const variable = 'STRIPE_API_KEY';
  return accountValues(
    variable,
    text,
    (key) => key,
    (id, value) => {
      if (typeof value !== 'string' || value.trim() === '')
        invalid(variable, `account "${id}" needs an API key string`);
      return value.trim();
    },
  );
}

/** The ingress configuration's view: the default account's secrets and the named accounts'. */
export function stripeIngressAccounts(text: string): {
  secrets: string[];
  accounts: ReadonlyMap<string, readonly string[]>;
} {
  const parsed = parseStripeWebhookSecrets(text);
  return { secrets: parsed.default ?? [], accounts: parsed.named };
}
