// Stripe: verify webhooks, normalize events into ledger changes, mirror objects.
export { verifyStripeWebhook, type StripeVerifyInput, type VerifiedStripeEvent } from './verify.ts';
export { normalizeStripeEvent, type StripeNormalizeOptions } from './normalize.ts';
export { MIRROR as STRIPE_MIRROR } from './mirror.ts';
