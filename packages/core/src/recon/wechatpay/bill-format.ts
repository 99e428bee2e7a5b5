// The WeChat Pay bill file format: column names per bill type, the row and summary types, and the small
// framing rules shared by the parser and the writer (backtick-prefixed values, ",`" separator, (元) suffixes).

/** Trade bill column headers, normalised (no `(元)` suffix). Order = the ALL bill's order. */
export const TRADE_COLUMNS = {
  tradeTime: '交易时间',
  appid: '公众账号ID',
  mchid: '商户号',
  subMchid: '特约商户号',
  deviceInfo: '设备号',
  transactionId: '微信订单号',
  outTradeNo: '商户订单号',
  openid: '用户标识',
  tradeType: '交易类型',
  tradeState: '交易状态',
  bankType: '付款银行',
  currency: '货币种类',
  settlementAmountFen: '应结订单金额',
  couponAmountFen: '代金券金额',
  refundRequestedAt: '退款申请时间',
  refundSucceededAt: '退款成功时间',
  refundId: '微信退款单号',
  outRefundNo: '商户退款单号',
  refundAmountFen: '退款金额',
  rechargeCouponRefundFen: '充值券退款金额',
  refundType: '退款类型',
  refundStatus: '退款状态',
  productName: '商品名称',
  attach: '商户数据包',
  feeMicro: '手续费',
  feeRate: '费率',
  orderAmountFen: '订单金额',
  requestedRefundAmountFen: '申请退款金额',
  rateNote: '费率备注',
} as const;
export type TradeColumnKey = keyof typeof TRADE_COLUMNS;

/** Columns without which a trade bill cannot be reconciled; the others may be absent (bill types differ). */
export const REQUIRED_TRADE_COLUMNS: readonly TradeColumnKey[] = [
  'tradeTime',
  'appid',
  'mchid',
  'transactionId',
  'outTradeNo',
  'tradeType',
  'tradeState',
  'currency',
  'settlementAmountFen',
  'feeMicro',
  'orderAmountFen',
];

const T = TRADE_COLUMNS;
/**
 * Header of each trade bill type as WeChat Pay documents it. The REFUND bill's 退款申请时间/退款成功时间 come from
 * the v2 bill documentation (the v3 facts list only the ALL columns); the parser maps by name either way.
 */
export const TRADE_BILL_HEADERS = {
  ALL: [
    T.tradeTime,
    T.appid,
    T.mchid,
    T.subMchid,
    T.deviceInfo,
    T.transactionId,
    T.outTradeNo,
    T.openid,
    T.tradeType,
    T.tradeState,
    T.bankType,
    T.currency,
    T.settlementAmountFen,
    T.couponAmountFen,
    T.refundId,
    T.outRefundNo,
    T.refundAmountFen,
    T.rechargeCouponRefundFen,
    T.refundType,
    T.refundStatus,
    T.productName,
    T.attach,
    T.feeMicro,
    T.feeRate,
    T.orderAmountFen,
    T.requestedRefundAmountFen,
    T.rateNote,
  ],
  SUCCESS: [
    T.tradeTime,
    T.appid,
    T.mchid,
    T.subMchid,
    T.deviceInfo,
    T.transactionId,
    T.outTradeNo,
    T.openid,
    T.tradeType,
    T.tradeState,
    T.bankType,
    T.currency,
    T.settlementAmountFen,
    T.couponAmountFen,
    T.productName,
    T.attach,
    T.feeMicro,
    T.feeRate,
    T.orderAmountFen,
    T.rateNote,
  ],
  REFUND: [
    T.tradeTime,
    T.appid,
    T.mchid,
    T.subMchid,
    T.deviceInfo,
    T.transactionId,
    T.outTradeNo,
    T.openid,
    T.tradeType,
    T.tradeState,
    T.bankType,
    T.currency,
    T.settlementAmountFen,
    T.couponAmountFen,
    T.refundRequestedAt,
    T.refundSucceededAt,
    T.refundId,
    T.outRefundNo,
    T.refundAmountFen,
    T.rechargeCouponRefundFen,
    T.refundType,
    T.refundStatus,
    T.productName,
    T.attach,
    T.feeMicro,
    T.feeRate,
    T.orderAmountFen,
    T.requestedRefundAmountFen,
    T.rateNote,
  ],
} as const satisfies Record<string, readonly string[]>;
export type TradeBillType = keyof typeof TRADE_BILL_HEADERS;

export const TRADE_SUMMARY_COLUMNS = {
  count: '总交易单数',
  settlementTotalFen: '应结订单总金额',
  refundTotalFen: '退款总金额',
  rechargeCouponRefundTotalFen: '充值券退款总金额',
  feeTotalMicro: '手续费总金额',
  orderTotalFen: '订单总金额',
  requestedRefundTotalFen: '申请退款总金额',
} as const;
export type TradeSummaryKey = keyof typeof TRADE_SUMMARY_COLUMNS;

export const FUND_FLOW_COLUMNS = {
  bookedAt: '记账时间',
  businessId: '微信支付业务单号',
  flowId: '资金流水单号',
  businessName: '业务名称',
  businessType: '业务类型',
  direction: '收支类型',
  amountFen: '收支金额',
  balanceFen: '账户结余',
  applicant: '资金变更提交申请人',
  note: '备注',
  voucherNo: '业务凭证号',
} as const;
export type FundFlowColumnKey = keyof typeof FUND_FLOW_COLUMNS;

export const REQUIRED_FUND_FLOW_COLUMNS: readonly FundFlowColumnKey[] = [
  'bookedAt',
  'businessId',
  'flowId',
  'businessName',
  'businessType',
  'direction',
  'amountFen',
  'balanceFen',
];

export const FUND_FLOW_SUMMARY_COLUMNS = {
  count: '资金流水总笔数',
  incomeCount: '收入笔数',
  incomeFen: '收入金额',
  expenseCount: '支出笔数',
  expenseFen: '支出金额',
} as const;
export type FundFlowSummaryKey = keyof typeof FUND_FLOW_SUMMARY_COLUMNS;

export const FUND_FLOW_DIRECTIONS = { 收入: 'income', 支出: 'expense' } as const;
export type FundFlowDirection = (typeof FUND_FLOW_DIRECTIONS)[keyof typeof FUND_FLOW_DIRECTIONS];

/** Decimals of bill amounts (yuan → fen) and of the 手续费 fee column (yuan → 1e-5 yuan). */
export const AMOUNT_SCALE = 2;
export const FEE_SCALE = 5;

/** Fields that hold personal data: never log them, mask them in break reports shown beyond finance. */
export const PERSONAL_DATA_FIELDS = ['openid'] as const;

/** Every value of a detail or summary row starts with a backtick; values are separated by ",`". */
export const VALUE_PREFIX = '`';
export const VALUE_SEPARATOR = ',`';

/**
 * Normalises a header cell: trims, drops a `(元)` / `（元）` unit suffix (half- or full-width brackets) so
 * `收支金额(元)` and `收支金额（元）` both map to `收支金额`.
 */
export function normalizeHeaderName(name: string): string {
  return name.replace(/[(（]\s*元\s*[)）]/gu, '').trim();
}

/** A trade bill detail row as data (what the writer takes; the parser adds `line` and `feeFen`). */
export interface TradeBillRecord {
  /** 交易时间, Beijing wall-clock time converted to the UTC instant. */
  tradeTime: Date;
  appid: string;
  mchid: string;
  /** 特约商户号; null for direct merchants (the bill says `0`) or when the column is absent. */
  subMchid: string | null;
  deviceInfo: string;
  /** 微信订单号 (transaction_id). */
  transactionId: string;
  /** 商户订单号 (out_trade_no). */
  outTradeNo: string;
  /** 用户标识 — the payer's openid. PERSONAL DATA: do not log; see PERSONAL_DATA_FIELDS. */
  openid: string;
  tradeType: string;
  /** SUCCESS, REFUND, REVOKED, … as written in the bill. */
  tradeState: string;
  bankType: string;
  /** Upper-case ISO 4217 (the bill writes e.g. CNY). */
  currency: string;
  /** 应结订单金额 in fen; 0 on refund rows. */
  settlementAmountFen: bigint;
  couponAmountFen: bigint;
  /** 退款申请时间 (REFUND bills only), null when empty or absent. */
  refundRequestedAt: Date | null;
  /** 退款成功时间 (REFUND bills only), null when empty or absent. */
  refundSucceededAt: Date | null;
  /** 微信退款单号; null when empty, `0`, or the column is absent. */
  refundId: string | null;
  /** 商户退款单号; null when empty, `0`, or the column is absent. */
  outRefundNo: string | null;
  refundAmountFen: bigint;
  rechargeCouponRefundFen: bigint;
  refundType: string;
  refundStatus: string;
  /** 商品名称 — may contain commas. */
  productName: string;
  /** 商户数据包 — may contain commas. */
  attach: string;
  /** 手续费 at scale 1e5 (yuan with 5 decimals, exact); negative on refund rows. */
  feeMicro: bigint;
  /** 费率 as written, e.g. `0.60%`. */
  feeRate: string;
  orderAmountFen: bigint;
  requestedRefundAmountFen: bigint;
  rateNote: string;
}

export interface TradeBillRow extends TradeBillRecord {
  /** 1-based line of the row in the bill text: evidence for break reports. */
  line: number;
  /** The fee in fen when it is a whole number of fen, else null (the exact value is `feeMicro`). */
  feeFen: bigint | null;
}

export interface FundFlowBillRecord {
  /** 记账时间 as a UTC instant. */
  bookedAt: Date;
  /** 微信支付业务单号. */
  businessId: string;
  /** 资金流水单号. */
  flowId: string;
  businessName: string;
  businessType: string;
  /** 收支类型: 收入 → income, 支出 → expense. */
  direction: FundFlowDirection;
  /** 收支金额 in fen, as written (WeChat writes magnitudes; `direction` carries the sign). */
  amountFen: bigint;
  /** 账户结余 in fen. */
  balanceFen: bigint;
  applicant: string;
  note: string;
  voucherNo: string;
}

export interface FundFlowBillRow extends FundFlowBillRecord {
  line: number;
  /** +|amountFen| for income, −|amountFen| for expense. */
  signedAmountFen: bigint;
}

/** Totals of a trade bill, computed from the detail rows and verified against every total the summary declares. */
export interface TradeBillSummary {
  kind: 'trade';
  /** Normalised detail header, in file order. */
  columns: readonly string[];
  /** Summary columns the file declared (each one verified). */
  declaredTotals: readonly string[];
  rowCount: number;
  settlementTotalFen: bigint;
  refundTotalFen: bigint;
  rechargeCouponRefundTotalFen: bigint;
  feeTotalMicro: bigint;
  orderTotalFen: bigint;
  requestedRefundTotalFen: bigint;
}

export interface FundFlowBillSummary {
  kind: 'fundflow';
  columns: readonly string[];
  declaredTotals: readonly string[];
  rowCount: number;
  incomeCount: number;
  /** Sum of |收支金额| over income rows. */
  incomeFen: bigint;
  expenseCount: number;
  /** Sum of |收支金额| over expense rows. */
  expenseFen: bigint;
}
