// The consumer's fast path through the decrypted transaction and refund resources of notification.ts: a
// hand-written check, at least as strict as the zod schema, that returns only the fields a payment or refund
// row needs (no copy of the resource). Whatever it does not accept goes to the zod schema, which decides and
// names the fields in its error; so the schemas stay the contract (tests/wechatpay/shapes.property.test.ts
// proves that everything accepted here the schema accepts with the same values). Service-provider resources
// are not taken here: their mirror row stores the schema's own copy.
import * as z from 'zod';
import {
  REFUND_STATES,
  type RefundResource,
  TRADE_STATES,
  type TransactionResource,
} from './notification.ts';

export type TransactionFields = Pick<
  TransactionResource,
  'out_trade_no' | 'transaction_id' | 'trade_state' | 'success_time'
> & { amount: Pick<TransactionResource['amount'], 'total' | 'currency'> };

export type RefundFields = Pick<
  RefundResource,
  'transaction_id' | 'out_trade_no' | 'refund_id' | 'out_refund_no' | 'refund_status' | 'success_time'
> & { amount: Pick<RefundResource['amount'], 'refund' | 'currency'> };

type Loose = Record<string, unknown>;

/** The very pattern of notification.ts' providerTime (zod's RFC 3339 with offset). */
const PROVIDER_TIME = z.regexes.datetime({ offset: true });
const CURRENCY = /^[A-Za-z]{3}$/;

const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isFen = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const optional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v);
const isString = (v: unknown) => typeof v === 'string';
const isTime = (v: unknown): v is string => typeof v === 'string' && PROVIDER_TIME.test(v);
const isCurrency = (v: unknown): v is string => typeof v === 'string' && CURRENCY.test(v);
const isTradeState = (v: unknown): v is TransactionResource['trade_state'] =>
  typeof v === 'string' && (TRADE_STATES as readonly string[]).includes(v);
const isRefundState = (v: unknown): v is RefundResource['refund_status'] =>
  typeof v === 'string' && (REFUND_STATES as readonly string[]).includes(v);

/** The merchant ids of both schemas (direct merchants; a sub_mchid sends the resource to the schema). */
function directMerchantIds(v: Loose): boolean {
  return (
    v.sub_mchid === undefined &&
    optional(v.appid, isText) &&
    optional(v.mchid, isText) &&
    optional(v.sp_appid, isText) &&
    optional(v.sp_mchid, isText) &&
    optional(v.sub_appid, isText)
  );
}

export function fastTransaction(v: unknown): TransactionFields | undefined {
  if (!isObject(v) || !directMerchantIds(v)) return undefined;
  const { out_trade_no, transaction_id, trade_state, success_time, amount } = v;
  if (!isText(out_trade_no) || !isText(transaction_id) || !isTradeState(trade_state)) return undefined;
  if (!optional(success_time, isTime)) return undefined;
  if (!optional(v.trade_type, isString) || !optional(v.trade_state_desc, isString)) return undefined;
  if (!optional(v.bank_type, isString) || !optional(v.attach, isString)) return undefined;
  if (!optional(v.payer, isObject) || !optional(v.promotion_detail, Array.isArray)) return undefined;
  if (!isObject(amount) || !isFen(amount.total) || !isCurrency(amount.currency)) return undefined;
  if (!optional(amount.payer_total, isFen) || !optional(amount.payer_currency, isString)) return undefined;
  return {
    out_trade_no,
    transaction_id,
    trade_state,
    success_time: success_time as string | undefined,
    amount: { total: amount.total, currency: amount.currency },
  };
}

export function fastRefund(v: unknown): RefundFields | undefined {
  if (!isObject(v) || !directMerchantIds(v)) return undefined;
  const { transaction_id, out_trade_no, refund_id, out_refund_no, refund_status, success_time, amount } = v;
  if (!isText(transaction_id) || !isText(out_trade_no) || !isText(refund_id) || !isText(out_refund_no))
    return undefined;
  if (!isRefundState(refund_status) || !optional(success_time, isTime)) return undefined;
  if (!optional(v.user_received_account, isString)) return undefined;
  if (!isObject(amount) || !isFen(amount.total) || !isFen(amount.refund)) return undefined;
  if (!optional(amount.payer_total, isFen) || !optional(amount.payer_refund, isFen)) return undefined;
  if (!optional(amount.currency, isCurrency)) return undefined;
  return {
    transaction_id,
    out_trade_no,
    refund_id,
    out_refund_no,
    refund_status,
    success_time: success_time as string | undefined,
    amount: { refund: amount.refund, currency: amount.currency as string | undefined },
  };
}
