// Former home of healing, kept as an alias of its import path (`@payhooks/core/recon/run/heal`): the shared loop is
// heal-breaks.ts, the provider healers are recon/wechatpay/healer.ts and recon/stripe/healer.ts.
export { HealError } from '../errors.ts';
export { type StripeRetrieveApi, type SyntheticEventFactory, stripeHealer } from '../stripe/healer.ts';
export { type WechatpayHealMerchant, type WechatpayQueryApi, wechatpayHealer } from '../wechatpay/healer.ts';
export type { HealCandidate, Healer } from './types.ts';
