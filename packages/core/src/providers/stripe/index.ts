// Stripe: verify webhooks, normalize events into ledger changes, mirror objects.

export {
  RETRIEVABLE_OBJECT_TYPES,
  type ReportAvailability,
  type ReportRunParameters,
  type RetrievableObjectType,
  STRIPE_API_BASE_URL,
  STRIPE_CLIENT_CODES,
  STRIPE_FILES_BASE_URL,
  StripeApiError,
  StripeClient,
  type StripeClientOptions,
  type SyntheticEventOptions,
  type SyntheticStripeEvent,
  syntheticEvent,
  toStripeApiError,
  type WaitForReportRunOptions,
} from './client.ts';
export { MIRROR as STRIPE_MIRROR } from './mirror.ts';
export { normalizeStripeEvent, type StripeNormalizeOptions } from './normalize.ts';
export { type StripeVerifyInput, type VerifiedStripeEvent, verifyStripeWebhook } from './verify.ts';
