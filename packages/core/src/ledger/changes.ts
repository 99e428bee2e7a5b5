// The ledger's input: provider-neutral changes produced by each provider's normalizer and applied by the
// projections. Every change carries the provider time of the event that produced it (`asOf`), which with the
// status rank decides, independently of arrival order, which snapshot wins (design rule 3).

export type Provider = 'stripe' | 'wechatpay';

export const PAYMENT_STATUSES = [
  'pending', // created, waiting for the payer (Stripe requires_payment_method/confirmation, WeChat NOTPAY)
  'requires_action', // payer must act (3DS)
  'processing', // WeChat USERPAYING, Stripe processing
  'authorized', // captured later (Stripe requires_capture)
  'failed', // last attempt failed; may still be retried by the payer (not terminal)
  'succeeded', // money captured (terminal)
  'canceled', // closed without payment (terminal)
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const REFUND_STATUSES = [
  'pending',
  'requires_action',
  'abnormal',
  'succeeded',
  'failed',
  'canceled',
] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export const DISPUTE_STATUSES = [
  'warning_needs_response',
  'warning_under_review',
  'needs_response',
  'under_review',
  'warning_closed',
  'won',
  'lost',
  'prevented',
] as const;
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

export interface PaymentChange {
  kind: 'payment';
  provider: Provider;
  /** Stripe connected account (acct_…) or WeChat mchid; '' for the platform account. */
  account: string;
  providerPaymentId: string;
  merchantOrderNo: string | null;
  amountMinor: bigint;
  currency: string;
  status: PaymentStatus;
  asOf: Date;
  /** When the object succeeded, if not at `asOf` (a healed snapshot is fetched later than it succeeded). */
  succeededAt?: Date;
}

export interface RefundChange {
  kind: 'refund';
  provider: Provider;
  account: string;
  providerRefundId: string;
  providerPaymentId: string | null;
  merchantRefundNo: string | null;
  merchantOrderNo: string | null;
  amountMinor: bigint;
  currency: string;
  status: RefundStatus;
  asOf: Date;
  /** When the refund succeeded, if not at `asOf`. */
  succeededAt?: Date;
}

export interface DisputeChange {
  kind: 'dispute';
  provider: Provider;
  account: string;
  providerDisputeId: string;
  providerPaymentId: string | null;
  amountMinor: bigint;
  currency: string;
  status: DisputeStatus;
  reason: string | null;
  asOf: Date;
}

/** A snapshot of a provider object mirrored verbatim (Stripe's `stripe.*` tables). */
export interface ObjectSnapshotChange {
  kind: 'object';
  provider: Provider;
  account: string;
  objectType: string;
  objectId: string;
  status: string | null;
  /** Status-table key when it must differ from `status` (a failed PaymentIntent is requires_payment_method). */
  orderKey?: string;
  deleted: boolean;
  snapshot: unknown;
  asOf: Date;
}

/** Merchant-order expectations are checked against payments; differences become anomaly rows. */
export type LedgerChange = PaymentChange | RefundChange | DisputeChange | ObjectSnapshotChange;

/** What one verified provider event means for the ledger. `changes` is empty for stored-only events. */
export interface NormalizedEvent {
  provider: Provider;
  eventId: string;
  eventType: string;
  account: string;
  occurredAt: Date;
  apiVersion: string | null;
  changes: LedgerChange[];
}
