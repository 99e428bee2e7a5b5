// Lambda: POST /webhooks/stripe[/{account}] — verify, enqueue, answer (setup in wiring/ingress.ts).
import { createStripeWebhookHandler, type HttpHandler } from './wiring/ingress.ts';

export { createStripeWebhookHandler, type HttpHandler };

export const handler: HttpHandler = createStripeWebhookHandler(process.env);
