// Stripe endpoint secrets added to a running local stack (`payhooks secrets add-stripe whsec_…`, e.g. the one
// `stripe listen` prints): one per line in <stateDir>/stripe-webhook-secrets.added (mode 0600). The gateway's
// Stripe routes look at the file's size and mtime on each request and rebuild the handler with the added
// secrets when it changed — so the very next callback is verified with them, no restart, no watcher
// (docs/decisions.md, "Adding Stripe secrets to a running local stack").
import { appendFileSync, chmodSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@payhooks/core/errors';
import type { RouteHandler } from './gateway.ts';

export const ADDED_STRIPE_SECRETS_FILE = 'stripe-webhook-secrets.added';

const SECRET_PATTERN = /^whsec_[A-Za-z0-9+/=_-]{8,}$/;

/** Appends `secret` to the state folder's added-secrets file (validated; the value is never printed). */
export function addStripeSecret(stateDir: string, secret: string): string {
  if (!SECRET_PATTERN.test(secret))
    throw new ConfigError(
      'CLI_USAGE',
      'a Stripe endpoint secret looks like whsec_… (as stripe listen prints it)',
    );
  const file = path.join(stateDir, ADDED_STRIPE_SECRETS_FILE);
  appendFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

function readAdded(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => SECRET_PATTERN.test(line));
  } catch {
    return [];
  }
}

/**
 * A Stripe route handler that follows the added-secrets file: `build(secrets)` makes the handler for the
 * configured secrets plus the added ones, and is called again whenever the file changes.
 */
export function followAddedStripeSecrets(
  stateDir: string,
  configured: string,
  build: (secretsList: string) => RouteHandler,
): RouteHandler {
  // Secrets per named account (the JSON form) are configured explicitly; added ones join a plain list only.
  if (configured.trim().startsWith('{')) return build(configured);
  const file = path.join(stateDir, ADDED_STRIPE_SECRETS_FILE);
  let seen = '';
  let handler = build(configured);
  const stamp = () => {
    // Without the file (the usual case) no exception: building an ENOENT error on every callback was ≈ 5 % of
    // the gateway process's CPU in bench case 7.
    try {
      const stat = statSync(file, { throwIfNoEntry: false });
      return stat ? `${stat.size}:${stat.mtimeMs}` : '';
    } catch {
      return '';
    }
  };
  return async (event) => {
    const now = stamp();
    if (now !== seen) {
      seen = now;
      const added = readAdded(file);
      handler = build([configured, ...added].filter((s) => s !== '').join(','));
    }
    return handler(event);
  };
}
