// Lambda (every 5 minutes): sends the Stripe objects whose mirror could not order two events, as Stripe holds
// them, through the queue (core/backfill/revalidate-stripe.ts; setup in wiring/revalidate.ts).
import { createRevalidateStripeHandler } from './wiring/revalidate.ts';

export { createRevalidateStripeHandler, stripeRevalidationDeps } from './wiring/revalidate.ts';

export const handler = createRevalidateStripeHandler(process.env);
