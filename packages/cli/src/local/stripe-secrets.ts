// `payhooks secrets add-stripe whsec_…` for the local stack: the running gateway picks the secret up on its next
// Stripe request (packages/local/src/added-secrets.ts).
export { addStripeSecret } from '@payhooks/local/stack';
