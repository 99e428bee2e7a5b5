import { systemClock } from '@payhooks/core/ports';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { createStripeWebhookHandler } from '@payhooks/functions/stripe-webhook';
import { apiEvent, devNullLogger, nullQueue, stripeTraffic } from './src/fixtures.ts';
const stripe = stripeTraffic(200);
const h = createStripeWebhookHandler({ STRIPE_WEBHOOK_SECRETS: stripe.secret, QUEUE_URL: 'http://127.0.0.1:9/unused' }, { queue: nullQueue(), logger: devNullLogger('p'), metrics: new MemoryMetrics(), clock: systemClock });
const events = stripe.callbacks.map(apiEvent);
for (let i = 0; i < 30000; i++) { const r = await h(events[i % events.length]!); if (r.statusCode !== 200) throw new Error(String(r.body)); }
