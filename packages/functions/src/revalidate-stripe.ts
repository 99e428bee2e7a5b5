// Lambda (every 5 minutes): sends the Stripe objects whose mirror could not order two events, as Stripe holds
// them, through the queue (core/backfill/revalidate-stripe.ts; setup in wiring/revalidate.ts).
// The wiring (stripe-node, the SDK clients: 600 KiB) loads with the first invocation rather than at import:
// a scheduled function has no caller waiting on its init phase (docs/decisions.md, session 5 cold start).
import { once } from './config.ts';

const load = once(async () =>
  (await import('./wiring/revalidate.ts')).createRevalidateStripeHandler(process.env),
);

export const handler = async (): Promise<unknown> => (await load())();
