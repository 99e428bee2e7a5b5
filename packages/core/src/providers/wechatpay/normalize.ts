// Turns a verified, decrypted WeChat Pay notification into provider-neutral ledger changes. Routing uses
// resource.original_type and the decrypted content, never event_type alone (profit sharing is reported to
// arrive as TRANSACTION.SUCCESS). Shapes we must understand but cannot parse fail loudly (→ DLQ).
// Covered: direct and service-provider transactions and refunds (every status), combined payments (one
// payment per sub-order) and profit-sharing movements; the `wechatpay.*` mirror keeps what the payments and
// refunds rows cannot hold (sub-merchant, combined order) and every profit-sharing movement.
import type * as z from 'zod';
import { NormalizeError } from '../../errors.ts';
import type {
  NormalizedEvent,
  ObjectSnapshotChange,
  PaymentChange,
  PaymentStatus,
  RefundChange,
  RefundStatus,
} from '../../ledger/changes.ts';
import { normalizeCurrency } from '../../money.ts';
import { WECHATPAY_CODES as C } from './constants.ts';
import type { Merchant } from './merchants.ts';
import { WECHATPAY_OBJECT } from './mirror.ts';
import {
  type CombinedTransactionResource,
  combinedTransactionResourceSchema,
  type Notification,
  type ProfitSharingResource,
  profitSharingResourceSchema,
  type RefundResource,
  type RefundState,
  refundResourceSchema,
  type TradeState,
  type TransactionResource,
  transactionResourceSchema,
} from './notification.ts';
import { fastRefund, fastTransaction, type RefundFields, type TransactionFields } from './shapes.ts';

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

type ContentKind = 'transaction' | 'combined' | 'refund' | 'profitsharing' | 'other';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the decrypted content looks like, independent of what the envelope claims. */
export function contentKind(content: unknown): ContentKind {
  if (!isRecord(content)) return 'other';
  if ('combine_out_trade_no' in content && 'sub_orders' in content) return 'combined';
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
  tx: TransactionFields,
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

function refundChange(refund: RefundFields, merchant: MerchantIdentity, outer: Notification): RefundChange {
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

/** Payer identifiers stay out of the mirror: nothing downstream needs them (see migration 0007). */
function withoutPayer(resource: Record<string, unknown>): Record<string, unknown> {
  const { payer: _payer, combine_payer_info: _combinePayer, ...rest } = resource;
  return rest;
}

function mirrored(
  objectType: string,
  objectId: string,
  status: string,
  snapshot: Record<string, unknown>,
  account: string,
  asOf: Date,
): ObjectSnapshotChange {
  return {
    kind: 'object',
    provider: 'wechatpay',
    account,
    objectType,
    objectId,
    status,
    deleted: false,
    snapshot: withoutPayer(snapshot),
    asOf,
  };
}

/** Service-provider resources name a sub-merchant; that is what the mirror row keeps beside the payment. */
const isServiceProvider = (resource: { sub_mchid?: string | undefined }) => resource.sub_mchid !== undefined;

function transactionChanges(
  tx: TransactionResource,
  merchant: MerchantIdentity,
  outer: Notification,
): (PaymentChange | ObjectSnapshotChange)[] {
  const payment = paymentChange(tx, merchant, outer);
  if (!isServiceProvider(tx)) return [payment];
  return [
    payment,
    mirrored(
      WECHATPAY_OBJECT.transaction,
      tx.transaction_id,
      tx.trade_state,
      tx,
      merchant.mchid,
      payment.asOf,
    ),
  ];
}

function refundChanges(
  refund: RefundResource,
  merchant: MerchantIdentity,
  outer: Notification,
): (RefundChange | ObjectSnapshotChange)[] {
  const change = refundChange(refund, merchant, outer);
  if (!isServiceProvider(refund)) return [change];
  return [
    change,
    mirrored(
      WECHATPAY_OBJECT.refund,
      refund.refund_id,
      refund.refund_status,
      refund,
      merchant.mchid,
      change.asOf,
    ),
  ];
}

/** The initiator of a combined payment is our merchant; each sub-order is booked to its own mchid. */
function checkCombinedMerchant(content: CombinedTransactionResource, merchant: MerchantIdentity): void {
  if (content.combine_mchid !== merchant.mchid) {
    throw new NormalizeError(
      C.merchantMismatch,
      `combined payment names combine_mchid ${content.combine_mchid}, configured merchant is ${merchant.mchid}`,
    );
  }
  if (content.combine_appid !== undefined && content.combine_appid !== merchant.appid) {
    throw new NormalizeError(
      C.merchantMismatch,
      `combined payment names combine_appid ${content.combine_appid}, configured appid is ${merchant.appid}`,
    );
  }
}

function combinedChanges(
  combined: CombinedTransactionResource,
  outer: Notification,
): (PaymentChange | ObjectSnapshotChange)[] {
  return combined.sub_orders.flatMap((order) => {
    const asOf = toDate(order.success_time ?? outer.create_time);
    const payment: PaymentChange = {
      kind: 'payment',
      provider: 'wechatpay',
      account: order.mchid,
      providerPaymentId: order.transaction_id,
      merchantOrderNo: order.out_trade_no,
      amountMinor: BigInt(order.amount.total_amount),
      currency: normalizeCurrency(order.amount.currency),
      status: paymentStatusFromTradeState(order.trade_state),
      asOf,
    };
    const snapshot = {
      ...order,
      combine_appid: combined.combine_appid,
      combine_mchid: combined.combine_mchid,
      combine_out_trade_no: combined.combine_out_trade_no,
    };
    return [
      payment,
      mirrored(
        WECHATPAY_OBJECT.transaction,
        order.transaction_id,
        order.trade_state,
        snapshot,
        order.mchid,
        asOf,
      ),
    ];
  });
}

/** Sent to the receiver: either the sharing merchant or the receiving merchant must be ours. */
function checkProfitSharingParty(share: ProfitSharingResource, merchant: MerchantIdentity): void {
  const sharer = share.sp_mchid ?? share.mchid;
  const receivedByUs = share.receiver.type === 'MERCHANT_ID' && share.receiver.account === merchant.mchid;
  if (sharer === merchant.mchid || receivedByUs) return;
  throw new NormalizeError(
    C.merchantMismatch,
    `profit sharing names mchid ${sharer ?? '(none)'} and receiver ${share.receiver.account}, configured merchant is ${merchant.mchid}`,
  );
}

/** PROFITSHARING.RETURN moves money back from the receiver; anything else (also TRANSACTION.SUCCESS) is a share. */
const profitSharingStatus = (eventType: string) =>
  eventType.toUpperCase() === 'PROFITSHARING.RETURN' ? 'RETURN' : 'SUCCESS';

function profitSharingChange(
  share: ProfitSharingResource,
  merchant: MerchantIdentity,
  outer: Notification,
): ObjectSnapshotChange {
  return mirrored(
    WECHATPAY_OBJECT.profitSharing,
    `${share.order_id}/${share.receiver.account}`,
    profitSharingStatus(outer.event_type),
    share,
    merchant.mchid,
    toDate(share.success_time ?? outer.create_time),
  );
}

/**
 * `outer` is the parsed notification, `decrypted` the JSON-parsed plaintext of its resource. Returns the
 * event with its changes: a PaymentChange per transaction (one per sub-order of a combined payment), a
 * RefundChange per refund, a profit-sharing mirror row per movement, plus mirror rows for service-provider and
 * combined transactions; none for unknown types (stored, not dropped) or profit sharing under a content we
 * cannot read as one. Throws NormalizeError WECHATPAY_MERCHANT_MISMATCH when the resource names another
 * merchant, WECHATPAY_RESOURCE_INVALID when a resource does not have the documented shape.
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
  if (originalType === 'profitsharing' || kind === 'profitsharing') {
    if (kind !== 'profitsharing') {
      checkMerchant(decrypted, merchant, false); // a profit-sharing notification we cannot read: evidence only
      return event;
    }
    const share = parseResource(profitSharingResourceSchema, decrypted, 'profit-sharing', outer.id);
    checkProfitSharingParty(share, merchant);
    event.changes.push(profitSharingChange(share, merchant, outer));
  } else if (originalType === 'transaction' && kind === 'combined') {
    const combined = parseResource(combinedTransactionResourceSchema, decrypted, 'combined', outer.id);
    checkCombinedMerchant(combined, merchant);
    event.changes.push(...combinedChanges(combined, outer));
  } else if (originalType === 'transaction') {
    checkMerchant(decrypted, merchant, true);
    // A direct merchant's payment needs only its row: the hand check, else the schema (and its mirror copy).
    const quick = fastTransaction(decrypted);
    if (quick) event.changes.push(paymentChange(quick, merchant, outer));
    else {
      const tx = parseResource(transactionResourceSchema, decrypted, 'transaction', outer.id);
      event.changes.push(...transactionChanges(tx, merchant, outer));
    }
  } else if (originalType === 'refund') {
    checkMerchant(decrypted, merchant, true);
    const quick = fastRefund(decrypted);
    if (quick) event.changes.push(refundChange(quick, merchant, outer));
    else {
      const refund = parseResource(refundResourceSchema, decrypted, 'refund', outer.id);
      event.changes.push(...refundChanges(refund, merchant, outer));
    }
  } else {
    checkMerchant(decrypted, merchant, false);
  }
  return event;
}
