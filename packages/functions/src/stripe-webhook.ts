// Lambda: POST /webhooks/stripe[/{account}] — verify, enqueue, answer (setup in wiring/stripe-ingress.ts).
import type { HttpHandler } from './wiring/ingress.ts';
import { guarded } from './wiring/stage-guard.ts';
import { createStripeWebhookHandler } from './wiring/stripe-ingress.ts';

export { createStripeWebhookHandler, type HttpHandler };

export const handler: HttpHandler = guarded(
  process.env,
  { service: 'stripe-webhook', secrets: ['STRIPE_WEBHOOK_SECRETS'] },
  createStripeWebhookHandler(process.env),
);
