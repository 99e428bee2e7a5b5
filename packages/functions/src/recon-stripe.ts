// Lambda: nightly Stripe reconciliation (EventBridge, 12:00–16:00 UTC) of yesterday (UTC) for the platform and
// each connected account in STRIPE_RECON_ACCOUNTS (reconciliation/stripe.ts; dependencies in wiring/recon.ts).
import { createReconStripeHandler } from './wiring/recon.ts';
import { guarded } from './wiring/stage-guard.ts';

export { type ReconStripeDeps, runStripeReconciliation } from './reconciliation/stripe.ts';
export { createReconStripeHandler, reconStripeDepsFromEnv } from './wiring/recon.ts';

export const handler = guarded(
  process.env,
  { service: 'recon-stripe', secrets: ['STRIPE_API_KEY'] },
  createReconStripeHandler(process.env),
);
