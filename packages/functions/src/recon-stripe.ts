// Lambda: nightly Stripe reconciliation (EventBridge, 12:00–16:00 UTC) of yesterday (UTC) for the platform and
// each connected account in STRIPE_RECON_ACCOUNTS (reconciliation/stripe.ts; dependencies in wiring/recon.ts).
// The wiring (stripe-node and the recon modules: 500 KiB) loads with the first invocation, after the stage
// guard, rather than at import: a nightly run has no caller waiting on its init phase (docs/decisions.md,
// session 5 cold start).
import { once } from './config.ts';
import type { ReconEvent } from './reconciliation/outcome.ts';
import { guarded } from './wiring/stage-guard.ts';

const load = once(async () => (await import('./wiring/recon.ts')).createReconStripeHandler(process.env));

export const handler = guarded(
  process.env,
  { service: 'recon-stripe', secrets: ['STRIPE_API_KEY'] },
  async (event?: ReconEvent) => (await load())(event),
);
