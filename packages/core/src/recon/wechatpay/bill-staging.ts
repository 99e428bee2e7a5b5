// Turns parsed WeChat Pay bill rows into staged lines: which ledger object each row speaks about, the amount the
// ledger must show for it, and the provider's state in the ledger's vocabulary. Fund-flow rows cannot match a
// ledger object and are staged for the totals.
import type { ReconLine } from '../run/types.ts';
import { FEE_SCALE, type FundFlowBillRow, type TradeBillRow } from './bill-format.ts';

/** 交易状态 of trade bill rows → ledger payment status (REFUND rows are refunds, see below). */
const WECHAT_TRADE_STATUS: Record<string, string> = {
  SUCCESS: 'succeeded',
  REVOKED: 'canceled',
  CLOSED: 'canceled',
  PAYERROR: 'failed',
  USERPAYING: 'processing',
  NOTPAY: 'pending',
};

/** 退款状态 (v2 bills write REFUNDCLOSE/CHANGE, v3 CLOSED/ABNORMAL) → ledger refund status. */
const WECHAT_REFUND_STATUS: Record<string, string> = {
  SUCCESS: 'succeeded',
  PROCESSING: 'pending',
  CLOSED: 'canceled',
  REFUNDCLOSE: 'canceled',
  ABNORMAL: 'abnormal',
  CHANGE: 'abnormal',
};

/** The ledger status of a payment row's 交易状态. */
export function paymentStatus(tradeState: string): string {
  const state = tradeState.trim().toUpperCase();
  return WECHAT_TRADE_STATUS[state] ?? state.toLowerCase();
}

/** The ledger status of a refund row's 退款状态 (empty: the bill lists it as refunded). */
export function refundStatus(status: string): string {
  const state = status.trim().toUpperCase();
  return WECHAT_REFUND_STATUS[state] ?? (state === '' ? 'succeeded' : state.toLowerCase());
}

const orNull = (value: string | null | undefined) =>
  value === undefined || value === null || value === '' ? null : value;

/**
 * A trade bill row: a payment row (交易状态 SUCCESS, REVOKED, …) compares 订单金额 with the ledger's order total;
 * a refund row (交易状态 REFUND) compares 申请退款金额 (falling back to 退款金额) with the ledger's refund amount,
 * which is what the refund notification's amount.refund carries.
 */
export function tradeBillLine(row: TradeBillRow, source = 'tradebill'): ReconLine {
  const base = {
    source,
    lineNo: row.line,
    subAccount: row.subMchid,
    providerPaymentId: orNull(row.transactionId),
    merchantOrderNo: orNull(row.outTradeNo),
    reference: null,
    payoutId: null,
    feeScaled: row.feeMicro,
    feeScale: FEE_SCALE,
    currency: row.currency,
  };
  if (row.tradeState === 'REFUND' || row.refundId !== null) {
    return {
      ...base,
      kind: 'refund',
      providerRefundId: row.refundId,
      merchantRefundNo: row.outRefundNo,
      amountMinor: row.requestedRefundAmountFen > 0n ? row.requestedRefundAmountFen : row.refundAmountFen,
      status: refundStatus(row.refundStatus),
      providerStatus: row.refundStatus || row.tradeState,
      occurredAt: row.refundSucceededAt ?? row.tradeTime,
    };
  }
  return {
    ...base,
    kind: 'payment',
    providerRefundId: null,
    merchantRefundNo: null,
    amountMinor: row.orderAmountFen,
    status: paymentStatus(row.tradeState),
    providerStatus: row.tradeState,
    occurredAt: row.tradeTime,
  };
}

/** A fund-flow row: staged for the income/expense totals only (signed amount, + income, − expense). */
export function fundFlowLine(row: FundFlowBillRow, source = 'fundflowbill'): ReconLine {
  return {
    source,
    lineNo: row.line,
    kind: 'fund_flow',
    subAccount: null,
    providerPaymentId: null,
    providerRefundId: null,
    merchantOrderNo: null,
    merchantRefundNo: null,
    reference: orNull(row.flowId),
    payoutId: null,
    amountMinor: row.signedAmountFen,
    feeScaled: 0n,
    feeScale: 0,
    currency: 'CNY',
    status: row.direction,
    providerStatus: `${row.businessType}/${row.businessName}`,
    occurredAt: row.bookedAt,
  };
}

/** A text field of a staging record: COPY csv quotes every text (NULL is an unquoted empty field). */
export const quoted = (value: string) =>
  value.includes('"') ? `"${value.replaceAll('"', '""')}"` : `"${value}"`;
const optionalQuoted = (value: string | null) => (value === null || value === '' ? '' : quoted(value));

/**
 * The staging record of a trade bill row, written straight from the row: exactly
 * `stagingCsvLine(runId, tradeBillLine(row, source))` (a property test holds them equal), without the ReconLine
 * object, its 18-field array and the per-field quoting calls — the per-row work of a million-row bill.
 * `prefix` is the record's constant start: `stagingRecordPrefix(runId, source)`.
 */
export function tradeBillStagingRecord(prefix: string, row: TradeBillRow): string {
  // From the end of merchant_refund_no: reference and payout_id (always NULL here), amount_minor, fee, currency.
  const money = (amount: bigint) => `,,,${amount},${row.feeMicro},${FEE_SCALE},${quoted(row.currency)}`;
  const head = `${prefix}${row.line},`;
  const ids = `${optionalQuoted(row.subMchid)},${optionalQuoted(row.transactionId)}`;
  if (row.tradeState === 'REFUND' || row.refundId !== null) {
    const status = refundStatus(row.refundStatus);
    const amount = row.requestedRefundAmountFen > 0n ? row.requestedRefundAmountFen : row.refundAmountFen;
    return (
      `${head}"refund",${ids},${optionalQuoted(row.refundId)},${optionalQuoted(row.outTradeNo)},` +
      `${optionalQuoted(row.outRefundNo)}${money(amount)},${quoted(status)},` +
      `${quoted(row.refundStatus || row.tradeState)},${(row.refundSucceededAt ?? row.tradeTime).toISOString()}\n`
    );
  }
  const status = paymentStatus(row.tradeState);
  return (
    `${head}"payment",${ids},,${optionalQuoted(row.outTradeNo)},${money(row.orderAmountFen)},` +
    `${quoted(status)},${quoted(row.tradeState)},${row.tradeTime.toISOString()}\n`
  );
}

/** run_id and source of every staging record of one file. */
export const stagingRecordPrefix = (runId: string, source: string) => `${quoted(runId)},${quoted(source)},`;
