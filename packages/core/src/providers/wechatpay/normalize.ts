// Turns a verified, decrypted WeChat Pay notification into provider-neutral ledger changes. Routing uses
// resource.original_type and the decrypted content, never event_type alone (profit sharing is reported to
// arrive as TRANSACTION.SUCCESS). Shapes we must understand but cannot parse fail loudly (→ DLQ).
import type * as z from 'zod';
import { NormalizeError } from '../../errors.ts';
import type {
  NormalizedEvent,
  PaymentChange,
  PaymentStatus,
  RefundChange,
  RefundStatus,
} from '../../ledger/changes.ts';
import { normalizeCurrency } from '../../money.ts';
import { WECHATPAY_CODES as C } from './constants.ts';
import type { Merchant } from './merchants.ts';
import {
  type Notification,
  type RefundResource,
  type RefundState,
  refundResourceSchema,
  type TradeState,
  type TransactionResource,
  transactionResourceSchema,
} from './notification.ts';

const PAYMENT_STATUS: Record<TradeState, PaymentStatus> = {
  SUCCESS: 'succeeded',
  REFUND: 'succeeded', // paid, then (partly) refunded: the payment itself succeeded
  NOTPAY: 'pending',
  CLOSED: 'canceled',
  REVOKED: 'canceled',
  USERPAYING: 'processing',
  PAYERROR: 'failed',
};

const REFUND_STATUS: Record<RefundState, RefundStatus> = {
  SUCCESS: 'succeeded',
  CLOSED: 'canceled',
  ABNORMAL: 'abnormal', // e.g. the payer's card was closed; resolved by hand, so not terminal
  PROCESSING: 'pending',
};

export function paymentStatusFromTradeState(state: TradeState): PaymentStatus {
  return PAYMENT_STATUS[state];
}

export function refundStatusFromRefundState(state: RefundState): RefundStatus {
  return REFUND_STATUS[state];
}

export type MerchantIdentity = Pick<Merchant, 'mchid' | 'appid'>;

type ContentKind = 'transaction' | 'refund' | 'profitsharing' | 'other';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the decrypted content looks like, independent of what the envelope claims. */
export function contentKind(content: unknown): ContentKind {
  if (!isRecord(content)) return 'other';
  if ('trade_state' in content) return 'transaction';
  if ('refund_status' in content) return 'refund';
  if ('order_id' in content || 'receiver' in content || 'receivers' in content) return 'profitsharing';
  return 'other';
}

/** Service-provider notifications name our merchant sp_mchid/sp_appid; direct ones mchid/appid. */
function claimedIds(content: Record<string, unknown>): { mchid: unknown; appid: unknown } {
  return { mchid: content.sp_mchid ?? content.mchid, appid: content.sp_appid ?? content.appid };
}

function checkMerchant(content: unknown, merchant: MerchantIdentity, required: boolean): void {
  if (!isRecord(content)) return;
  const { mchid, appid } = claimedIds(content);
  if (mchid === undefined) {
    if (!required) return;
    throw new NormalizeError(C.resourceInvalid, 'decrypted resource names no mchid/sp_mchid');
  }
  if (mchid !== merchant.mchid) {
    throw new NormalizeError(
      C.merchantMismatch,
      `decrypted resource names mchid ${typeof mchid === 'string' ? mchid : '(not a string)'}, configured merchant is ${merchant.mchid}`,
    );
  }
  if (appid !== undefined && appid !== merchant.appid) {
    throw new NormalizeError(
      C.merchantMismatch,
      `decrypted resource names appid ${typeof appid === 'string' ? appid : '(not a string)'}, configured appid is ${merchant.appid}`,
    );
  }
}

function parseResource<T>(schema: z.ZodType<T>, content: unknown, what: string, eventId: string): T {
  const parsed = schema.safeParse(content);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  throw new NormalizeError(
    C.resourceInvalid,
    `notification ${eventId}: ${what} resource does not parse: ${issues}`,
  );
}

function toDate(rfc3339: string): Date {
  return new Date(rfc3339);
}

function paymentChange(
  tx: TransactionResource,
  merchant: MerchantIdentity,
  outer: Notification,
): PaymentChange {
  return {
    kind: 'payment',
    provider: 'wechatpay',
    account: merchant.mchid,
    providerPaymentId: tx.transaction_id,
    merchantOrderNo: tx.out_trade_no,
    amountMinor: BigInt(tx.amount.total),
    currency: normalizeCurrency(tx.amount.currency),
    status: paymentStatusFromTradeState(tx.trade_state),
    asOf: toDate(tx.success_time ?? outer.create_time),
  };
}

function refundChange(refund: RefundResource, merchant: MerchantIdentity, outer: Notification): RefundChange {
  return {
    kind: 'refund',
    provider: 'wechatpay',
    account: merchant.mchid,
    providerRefundId: refund.refund_id,
    providerPaymentId: refund.transaction_id,
    merchantRefundNo: refund.out_refund_no,
    merchantOrderNo: refund.out_trade_no,
    amountMinor: BigInt(refund.amount.refund),
    currency: normalizeCurrency(refund.amount.currency ?? 'CNY'),
    status: refundStatusFromRefundState(refund.refund_status),
    asOf: toDate(refund.success_time ?? outer.create_time),
  };
}

/**
 * `outer` is the parsed notification, `decrypted` the JSON-parsed plaintext of its resource. Returns the
 * event with its changes: one PaymentChange (original_type transaction), one RefundChange (refund), or none
 * (profit sharing, unknown types: stored, not dropped). Throws NormalizeError WECHATPAY_MERCHANT_MISMATCH
 * when the resource names another mchid/appid, WECHATPAY_RESOURCE_INVALID when a transaction or refund
 * resource does not have the documented shape.
 */
export function normalizeNotification(
  outer: Notification,
  decrypted: unknown,
  merchant: MerchantIdentity,
): NormalizedEvent {
  const originalType = outer.resource.original_type.toLowerCase();
  const kind = contentKind(decrypted);
  const event: NormalizedEvent = {
    provider: 'wechatpay',
    eventId: outer.id,
    eventType: outer.event_type,
    account: merchant.mchid,
    occurredAt: toDate(outer.create_time),
    apiVersion: null,
    changes: [],
  };
  const storedOnly = originalType === 'profitsharing' || kind === 'profitsharing';
  const expectsTransaction = !storedOnly && originalType === 'transaction';
  const expectsRefund = !storedOnly && originalType === 'refund';
  checkMerchant(decrypted, merchant, expectsTransaction || expectsRefund);
  if (expectsTransaction) {
    const tx = parseResource(transactionResourceSchema, decrypted, 'transaction', outer.id);
    event.changes.push(paymentChange(tx, merchant, outer));
  } else if (expectsRefund) {
    const refund = parseResource(refundResourceSchema, decrypted, 'refund', outer.id);
    event.changes.push(refundChange(refund, merchant, outer));
  }
  return event;
}
