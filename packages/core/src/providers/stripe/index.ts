// Stripe: verify webhooks, normalize events into ledger changes, mirror objects.
export { verifyStripeWebhook, type StripeVerifyInput, type VerifiedStripeEvent } from './verify.ts';
export { normalizeStripeEvent, type StripeNormalizeOptions } from './normalize.ts';
export { MIRROR as STRIPE_MIRROR } from './mirror.ts';
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
