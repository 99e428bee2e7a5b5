// Writes WeChat Pay bill text from rows, streaming: header, one line per row, then the summary computed on the
// way. The sandbox serves bills built from its own traffic with it, and the benchmark generates million-row bills;
// the output is what parseTradeBill / parseFundFlowBill read back exactly.
import { minorToDecimal } from '@payhooks/core/money';
import {
  AMOUNT_SCALE,
  BILL_FORMAT_CODES,
  BillFormatError,
  FEE_SCALE,
  FUND_FLOW_COLUMNS,
  FUND_FLOW_SUMMARY_COLUMNS,
  type FundFlowBillRecord,
  formatBeijingTime,
  TRADE_BILL_HEADERS,
  TRADE_COLUMNS,
  TRADE_SUMMARY_COLUMNS,
  type TradeBillRecord,
  type TradeBillType,
  type TradeColumnKey,
  VALUE_PREFIX,
  VALUE_SEPARATOR,
} from '@payhooks/core/recon';

export interface BillWriteOptions {
  /** Start with a UTF-8 byte-order mark (default false). */
  bom?: boolean;
  /** Line ending (default CRLF). */
  lineEnding?: '\n' | '\r\n';
  /** Characters per yielded chunk (default 65,536); lines are never split across the limit's check. */
  chunkSize?: number;
}

export interface TradeBillWriteOptions extends BillWriteOptions {
  /** Which bill_type's columns to write (default ALL). */
  billType?: TradeBillType;
}

export interface FundFlowBillWriteOptions extends BillWriteOptions {
  /** Unit suffix on amount headers: `(元)` (default) or full-width `（元）`. */
  yuanSuffix?: 'ascii' | 'fullwidth';
}

type RecordSource<T> = AsyncIterable<T> | Iterable<T>;

function text(value: string, column: string, index: number): string {
  if (value.includes('\n') || value.includes('\r') || value.includes(VALUE_SEPARATOR)) {
    throw new BillFormatError(
      BILL_FORMAT_CODES.unencodable,
      `record ${index}: column "${column}" contains a line break or the ",\`" separator, which bills cannot carry`,
      { column },
    );
  }
  return value;
}

function time(value: Date, column: string, index: number): string {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new BillFormatError(
      BILL_FORMAT_CODES.unencodable,
      `record ${index}: column "${column}" is not a valid date`,
      {
        column,
      },
    );
  }
  return formatBeijingTime(value);
}

const yuan = (fen: bigint) => minorToDecimal(fen, AMOUNT_SCALE);
const valueLine = (values: readonly string[]) => VALUE_PREFIX + values.join(VALUE_SEPARATOR);

/** Buffers lines into chunks of about `chunkSize` characters. */
class ChunkBuffer {
  private buffer = '';
  constructor(
    private readonly lineEnding: string,
    private readonly chunkSize: number,
  ) {}
  add(line: string): string | undefined {
    this.buffer += line + this.lineEnding;
    if (this.buffer.length < this.chunkSize) return undefined;
    const out = this.buffer;
    this.buffer = '';
    return out;
  }
  flush(): string {
    const out = this.buffer;
    this.buffer = '';
    return out;
  }
}

function tradeValue(record: TradeBillRecord, key: TradeColumnKey, index: number): string {
  const column = TRADE_COLUMNS[key];
  switch (key) {
    case 'tradeTime':
      return time(record.tradeTime, column, index);
    case 'refundRequestedAt':
    case 'refundSucceededAt': {
      const value = record[key];
      return value === null ? '' : time(value, column, index);
    }
    case 'subMchid':
      return text(record.subMchid ?? '0', column, index);
    case 'refundId':
    case 'outRefundNo':
      return text(record[key] ?? '', column, index);
    case 'settlementAmountFen':
    case 'couponAmountFen':
    case 'refundAmountFen':
    case 'rechargeCouponRefundFen':
    case 'orderAmountFen':
    case 'requestedRefundAmountFen':
      return yuan(record[key]);
    case 'feeMicro':
      return minorToDecimal(record.feeMicro, FEE_SCALE);
    default:
      return text(record[key], column, index);
  }
}

const TRADE_KEY_BY_HEADER = new Map<string, TradeColumnKey>(
  (Object.keys(TRADE_COLUMNS) as TradeColumnKey[]).map((key) => [TRADE_COLUMNS[key], key]),
);

/** Streams a trade bill of the given bill_type for `records`, ending with the matching summary. */
export async function* writeTradeBill(
  records: RecordSource<TradeBillRecord>,
  options: TradeBillWriteOptions = {},
): AsyncGenerator<string, void, undefined> {
  const headers = TRADE_BILL_HEADERS[options.billType ?? 'ALL'];
  const keys = headers.map((header) => TRADE_KEY_BY_HEADER.get(header)!);
  const keySet = new Set(keys);
  const out = new ChunkBuffer(options.lineEnding ?? '\r\n', options.chunkSize ?? 65_536);
  const totals = {
    count: 0n,
    settlement: 0n,
    refund: 0n,
    rechargeCoupon: 0n,
    fee: 0n,
    order: 0n,
    requested: 0n,
  };
  const first = out.add((options.bom ? '\uFEFF' : '') + headers.join(','));
  if (first !== undefined) yield first;
  let index = 0;
  for await (const record of records) {
    const chunk = out.add(valueLine(keys.map((key) => tradeValue(record, key, index))));
    index += 1;
    // Totals cover only what the bill shows, so a SUCCESS bill's summary agrees with its own rows.
    totals.count += 1n;
    totals.settlement += record.settlementAmountFen;
    if (keySet.has('refundAmountFen')) totals.refund += record.refundAmountFen;
    if (keySet.has('rechargeCouponRefundFen')) totals.rechargeCoupon += record.rechargeCouponRefundFen;
    totals.fee += record.feeMicro;
    totals.order += record.orderAmountFen;
    if (keySet.has('requestedRefundAmountFen')) totals.requested += record.requestedRefundAmountFen;
    if (chunk !== undefined) yield chunk;
  }
  const S = TRADE_SUMMARY_COLUMNS;
  out.add(
    [
      S.count,
      S.settlementTotalFen,
      S.refundTotalFen,
      S.rechargeCouponRefundTotalFen,
      S.feeTotalMicro,
      S.orderTotalFen,
      S.requestedRefundTotalFen,
    ].join(','),
  );
  out.add(
    valueLine([
      totals.count.toString(),
      yuan(totals.settlement),
      yuan(totals.refund),
      yuan(totals.rechargeCoupon),
      minorToDecimal(totals.fee, FEE_SCALE),
      yuan(totals.order),
      yuan(totals.requested),
    ]),
  );
  yield out.flush();
}

/** Streams a fund-flow bill for `records`, ending with the matching summary. */
export async function* writeFundFlowBill(
  records: RecordSource<FundFlowBillRecord>,
  options: FundFlowBillWriteOptions = {},
): AsyncGenerator<string, void, undefined> {
  const unit = options.yuanSuffix === 'fullwidth' ? '（元）' : '(元)';
  const C = FUND_FLOW_COLUMNS;
  const headers = [
    C.bookedAt,
    C.businessId,
    C.flowId,
    C.businessName,
    C.businessType,
    C.direction,
    C.amountFen + unit,
    C.balanceFen + unit,
    C.applicant,
    C.note,
    C.voucherNo,
  ];
  const out = new ChunkBuffer(options.lineEnding ?? '\r\n', options.chunkSize ?? 65_536);
  const totals = { count: 0n, incomeCount: 0n, income: 0n, expenseCount: 0n, expense: 0n };
  const first = out.add((options.bom ? '\uFEFF' : '') + headers.join(','));
  if (first !== undefined) yield first;
  let index = 0;
  for await (const r of records) {
    if (r.direction !== 'income' && r.direction !== 'expense') {
      throw new BillFormatError(
        BILL_FORMAT_CODES.unencodable,
        `record ${index}: direction must be income or expense`,
        {
          column: C.direction,
        },
      );
    }
    const chunk = out.add(
      valueLine([
        time(r.bookedAt, C.bookedAt, index),
        text(r.businessId, C.businessId, index),
        text(r.flowId, C.flowId, index),
        text(r.businessName, C.businessName, index),
        text(r.businessType, C.businessType, index),
        r.direction === 'income' ? '收入' : '支出',
        yuan(r.amountFen),
        yuan(r.balanceFen),
        text(r.applicant, C.applicant, index),
        text(r.note, C.note, index),
        text(r.voucherNo, C.voucherNo, index),
      ]),
    );
    index += 1;
    const magnitude = r.amountFen < 0n ? -r.amountFen : r.amountFen;
    totals.count += 1n;
    if (r.direction === 'income') {
      totals.incomeCount += 1n;
      totals.income += magnitude;
    } else {
      totals.expenseCount += 1n;
      totals.expense += magnitude;
    }
    if (chunk !== undefined) yield chunk;
  }
  const S = FUND_FLOW_SUMMARY_COLUMNS;
  out.add([S.count, S.incomeCount, S.incomeFen, S.expenseCount, S.expenseFen].join(','));
  out.add(
    valueLine([
      totals.count.toString(),
      totals.incomeCount.toString(),
      yuan(totals.income),
      totals.expenseCount.toString(),
      yuan(totals.expense),
    ]),
  );
  yield out.flush();
}

/**
 * One successful JSAPI payment row of a trade bill on 2025-03-01, as the file-reconciliation tests use it (CLI,
 * console upload locally and on AWS): the amounts in fen, a 0.60 % fee, no refund.
 */
export function successfulTrade(
  mchid: string,
  transactionId: string,
  outTradeNo: string,
  fen: bigint,
): TradeBillRecord {
  return {
    tradeTime: new Date('2025-03-01T02:00:00Z'),
    appid: 'wxd678efh567hg6787',
    mchid,
    subMchid: null,
    deviceInfo: '',
    transactionId,
    outTradeNo,
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    tradeType: 'JSAPI',
    tradeState: 'SUCCESS',
    bankType: 'CMC',
    currency: 'CNY',
    settlementAmountFen: fen,
    couponAmountFen: 0n,
    refundRequestedAt: null,
    refundSucceededAt: null,
    refundId: null,
    outRefundNo: null,
    refundAmountFen: 0n,
    rechargeCouponRefundFen: 0n,
    refundType: '',
    refundStatus: '',
    productName: '商品',
    attach: '',
    feeMicro: 600n,
    feeRate: '0.60%',
    orderAmountFen: fen,
    requestedRefundAmountFen: 0n,
    rateNote: '',
  };
}
