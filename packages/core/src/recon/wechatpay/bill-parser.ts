// Streaming parser for WeChat Pay trade bills (bill_type ALL / SUCCESS / REFUND) and fund-flow bills.
// Rows are yielded one by one as the text arrives, so a caller can feed them straight into a COPY; the summary
// row is checked against totals accumulated on the way, and a mismatch fails the iteration at its very end —
// run the COPY inside a transaction and roll back when the iteration throws.
import { MoneyError } from '../../errors.ts';
import { normalizeCurrency } from '../../money.ts';
import { parseAmount } from '../decimal-amount.ts';
import { BILL_FORMAT_CODES, BillFormatError, BillSummaryMismatchError } from '../errors.ts';
import {
  decodeText,
  LineTooLongFailure,
  splitLines,
  TextDecodeFailure,
  type TextSource,
} from '../utf8-lines.ts';
import { parseBeijingTime } from '../wall-clock-time.ts';
import {
  AMOUNT_SCALE,
  FEE_SCALE,
  FUND_FLOW_COLUMNS,
  FUND_FLOW_DIRECTIONS,
  FUND_FLOW_SUMMARY_COLUMNS,
  type FundFlowBillRow,
  type FundFlowBillSummary,
  type FundFlowColumnKey,
  type FundFlowDirection,
  type FundFlowSummaryKey,
  normalizeHeaderName,
  REQUIRED_FUND_FLOW_COLUMNS,
  REQUIRED_TRADE_COLUMNS,
  TRADE_COLUMNS,
  TRADE_SUMMARY_COLUMNS,
  type TradeBillRow,
  type TradeBillSummary,
  type TradeColumnKey,
  type TradeSummaryKey,
  VALUE_PREFIX,
  VALUE_SEPARATOR,
} from './bill-format.ts';

export interface BillParseOptions {
  /**
   * What to do with a header column this parser does not know. `error` (default) fails loudly, because a new
   * column usually means a format change someone must look at; `ignore` skips its values.
   */
  unknownColumns?: 'error' | 'ignore';
  /** Longest accepted line in characters (default 65,536); guards memory against a file without newlines. */
  maxLineLength?: number;
}

/**
 * A bill being parsed. Iterate it (or `rows()`) once; when the iteration has ended without error, `summary()`
 * returns the totals, already verified against the bill's own summary row. `rows()` also returns the summary as
 * the generator's return value.
 */
export interface BillParser<Row, Summary> extends AsyncIterable<Row> {
  rows(): AsyncGenerator<Row, Summary, undefined>;
  summary(): Summary;
}

/** Column layout of one header: for each known key, its field index or -1. */
export type Layout<K extends string> = Record<K, number>;

export interface BillHandler<Row, Summary> {
  /** Validates the detail header and prepares the row mapping. */
  header(names: string[], line: number): void;
  row(fields: string[], line: number): Row;
  /** Checks the summary against the accumulated totals and returns it. */
  summary(names: string[], values: string[], line: number): Summary;
}

export const DEFAULT_MAX_LINE = 65_536;
const AMOUNT_CACHE_SIZE = 4096;

function layoutOf<K extends string>(
  names: readonly string[],
  columns: Readonly<Record<K, string>>,
  required: readonly K[],
  unknownColumns: 'error' | 'ignore',
  line: number,
  what: string,
): Layout<K> {
  const byHeader = new Map<string, K>();
  for (const key of Object.keys(columns) as K[]) byHeader.set(columns[key], key);
  const layout = {} as Layout<K>;
  for (const key of byHeader.values()) layout[key] = -1;
  const seen = new Set<string>();
  names.forEach((name, index) => {
    if (seen.has(name)) {
      throw new BillFormatError(
        BILL_FORMAT_CODES.duplicateColumn,
        `${what} header repeats column "${name}"`,
        {
          line,
          column: name,
        },
      );
    }
    seen.add(name);
    const key = byHeader.get(name);
    if (key !== undefined) layout[key] = index;
    else if (unknownColumns === 'error') {
      throw new BillFormatError(
        BILL_FORMAT_CODES.unknownColumn,
        `${what} header has unknown column "${name}" (line ${line}); if WeChat Pay added a column, ` +
          'extend the column map or parse with unknownColumns: "ignore"',
        { line, column: name },
      );
    }
  });
  for (const key of required) {
    if (layout[key] === -1) {
      throw new BillFormatError(
        BILL_FORMAT_CODES.missingColumn,
        `${what} header lacks required column "${columns[key]}" (line ${line}); is this the right bill type?`,
        { line, column: columns[key] },
      );
    }
  }
  return layout;
}

function splitValues(line: string): string[] {
  return line.slice(VALUE_PREFIX.length).split(VALUE_SEPARATOR);
}

function splitHeader(line: string): string[] {
  return line.split(',').map(normalizeHeaderName);
}

const isBlank = (line: string) => line.trim().length === 0;

/**
 * The common shape of a bill amount, read without regular expressions: 1–15 digits, '.', exactly `scale` digits
 * ("12.34" at scale 2, "0.00600" at scale 5). For that shape parseAmount's result is the digits without the point,
 * which fits a double exactly below 2^53. Anything else (a sign, spaces, fewer or more decimals, a long number)
 * returns undefined and takes parseAmount, with its checks and errors.
 */
function plainAmount(value: string, scale: number): bigint | undefined {
  const length = value.length;
  const dot = length - scale - 1;
  if (scale <= 0 || dot < 1 || length > 16 || value.charCodeAt(dot) !== 46) return undefined;
  let n = 0;
  for (let i = 0; i < length; i += 1) {
    if (i === dot) continue;
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    n = n * 10 + digit;
  }
  return BigInt(n);
}

/** Field readers bound to one row: each names the column in its error. */
class FieldReader<K extends string> {
  fields: string[] = [];
  line = 0;
  private readonly amountCache = new Map<string, bigint>();
  private readonly feeCache = new Map<string, bigint>();
  constructor(
    private readonly layout: Layout<K>,
    private readonly columns: Readonly<Record<K, string>>,
  ) {}

  /** Raw text of the column, '' when the column is absent. */
  text(key: K): string {
    const index = this.layout[key];
    return index === -1 ? '' : (this.fields[index] ?? '');
  }

  /** Identifier that WeChat writes as `0` or empty when there is none. */
  optionalId(key: K): string | null {
    const value = this.text(key).trim();
    return value === '' || value === '0' ? null : value;
  }

  amount(key: K, scale: number, emptyIsZero: boolean): bigint {
    const value = this.text(key);
    if (emptyIsZero && value.trim() === '') return 0n;
    // Bills repeat a few amounts ("0.00", common prices): a bounded cache halves the parse time of big bills.
    const cache = scale === FEE_SCALE ? this.feeCache : this.amountCache;
    const cached = cache.get(value);
    if (cached !== undefined) return cached;
    const plain = plainAmount(value, scale);
    if (plain !== undefined) return plain;
    try {
      const amount = parseAmount(value, scale);
      if (cache.size < AMOUNT_CACHE_SIZE) cache.set(value, amount);
      return amount;
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      throw new BillFormatError(
        BILL_FORMAT_CODES.badAmount,
        `bad amount in column "${this.columns[key]}" on line ${this.line}: ${error.message}`,
        { line: this.line, column: this.columns[key], cause: error },
      );
    }
  }

  time(key: K): Date {
    const date = parseBeijingTime(this.text(key));
    if (date === null) throw this.badValue(key, 'a Beijing time "YYYY-MM-DD HH:mm:ss"');
    return date;
  }

  optionalTime(key: K): Date | null {
    return this.text(key).trim() === '' ? null : this.time(key);
  }

  currency(key: K): string {
    try {
      return normalizeCurrency(this.text(key));
    } catch (error) {
      throw this.badValue(key, 'an ISO 4217 currency code', error);
    }
  }

  badValue(key: K, expected: string, cause?: unknown): BillFormatError {
    return new BillFormatError(
      BILL_FORMAT_CODES.badValue,
      `column "${this.columns[key]}" on line ${this.line} is not ${expected}`,
      { line: this.line, column: this.columns[key], cause },
    );
  }
}

function parseCount(text: string, column: string, line: number): bigint {
  const trimmed = text.trim();
  if (!/^\d{1,15}$/.test(trimmed)) {
    throw new BillFormatError(
      BILL_FORMAT_CODES.badValue,
      `summary "${column}" on line ${line} is not a count`,
      {
        line,
        column,
      },
    );
  }
  return BigInt(trimmed);
}

function summaryAmount(text: string, scale: number, column: string, line: number): bigint {
  try {
    return parseAmount(text, scale);
  } catch (error) {
    if (!(error instanceof MoneyError)) throw error;
    throw new BillFormatError(
      BILL_FORMAT_CODES.badAmount,
      `bad amount in summary "${column}" on line ${line}: ${error.message}`,
      { line, column, cause: error },
    );
  }
}

interface SummaryCheck<K extends string> {
  key: K;
  /** `magnitude`: an amount compared without its sign. */
  kind: 'count' | 'amount' | 'fee' | 'magnitude';
  computed: bigint;
}

/** Reads a summary row by header name and compares each declared total with the computed one. */
function verifySummary<K extends string>(
  names: string[],
  values: string[],
  line: number,
  columns: Readonly<Record<K, string>>,
  countKey: K,
  checks: readonly SummaryCheck<K>[],
  unknownColumns: 'error' | 'ignore',
  what: string,
): string[] {
  const layout = layoutOf(names, columns, [countKey], unknownColumns, line, `${what} summary`);
  if (values.length !== names.length) {
    throw new BillFormatError(
      BILL_FORMAT_CODES.fieldCount,
      `${what} summary row on line ${line} has ${values.length} fields, its header has ${names.length}`,
      { line },
    );
  }
  const declared: string[] = [];
  for (const check of checks) {
    const index = layout[check.key];
    if (index === -1) continue;
    const column = columns[check.key];
    const text = values[index] ?? '';
    let value: bigint;
    if (check.kind === 'count') value = parseCount(text, column, line);
    else value = summaryAmount(text, check.kind === 'fee' ? FEE_SCALE : AMOUNT_SCALE, column, line);
    if (check.kind === 'magnitude' && value < 0n) value = -value;
    if (value !== check.computed) throw new BillSummaryMismatchError(column, value, check.computed, line);
    declared.push(column);
  }
  return declared;
}

/** Maps the text layer's failures to the bill's format errors (same codes and messages on every read path). */
export function billTextError(error: unknown): unknown {
  if (error instanceof TextDecodeFailure) {
    return new BillFormatError(BILL_FORMAT_CODES.encoding, `bill text: ${error.message}`, { cause: error });
  }
  if (error instanceof LineTooLongFailure) {
    return new BillFormatError(BILL_FORMAT_CODES.lineTooLong, `bill ${error.message}`, { line: error.line });
  }
  return error;
}

/**
 * The line-level state machine shared by both bill kinds and both read paths (rows, and the load's byte-level
 * staging records): header, detail rows, summary header, summary row — one decoded line at a time.
 */
export class BillLines<Row, Summary> {
  private state: 'header' | 'rows' | 'summaryRow' | 'done' = 'header';
  private summaryNames: string[] = [];
  private result: Summary | undefined;

  constructor(private readonly handler: BillHandler<Row, Summary>) {}

  /** Whether a value line read now is a detail row. */
  get inRows(): boolean {
    return this.state === 'rows';
  }

  /** Reads one line (without its line break); returns the row when it is a detail row. */
  line(line: string, lineNumber: number): Row | undefined {
    if (isBlank(line)) return undefined;
    const isValueLine = line.startsWith(VALUE_PREFIX);
    switch (this.state) {
      case 'header':
        if (isValueLine) {
          throw new BillFormatError(
            BILL_FORMAT_CODES.headerMissing,
            `line ${lineNumber} is a value row but no header line came before it`,
            { line: lineNumber },
          );
        }
        this.handler.header(splitHeader(line), lineNumber);
        this.state = 'rows';
        return undefined;
      case 'rows':
        if (isValueLine) return this.handler.row(splitValues(line), lineNumber);
        this.summaryNames = splitHeader(line);
        this.state = 'summaryRow';
        return undefined;
      case 'summaryRow':
        if (!isValueLine) {
          throw new BillFormatError(
            BILL_FORMAT_CODES.summaryMissing,
            `line ${lineNumber} should be the summary row (values starting with a backtick)`,
            { line: lineNumber },
          );
        }
        this.result = this.handler.summary(this.summaryNames, splitValues(line), lineNumber);
        this.state = 'done';
        return undefined;
      case 'done':
        throw new BillFormatError(
          BILL_FORMAT_CODES.trailingContent,
          `unexpected content on line ${lineNumber} after the summary row`,
          { line: lineNumber },
        );
    }
  }

  /** The verified summary once the text has ended after `lineCount` lines. */
  end(lineCount: number): Summary {
    if (this.state === 'header') {
      throw new BillFormatError(BILL_FORMAT_CODES.headerMissing, 'the bill is empty: no header line');
    }
    if (this.result === undefined) {
      throw new BillFormatError(
        BILL_FORMAT_CODES.summaryMissing,
        'the bill ended without its summary header and summary row: the file is truncated',
        { line: lineCount },
      );
    }
    return this.result;
  }
}

async function* runBill<Row, Summary>(
  source: TextSource,
  options: BillParseOptions,
  handler: BillHandler<Row, Summary>,
): AsyncGenerator<Row, Summary, undefined> {
  const lines = new BillLines(handler);
  let lineNumber = 0;
  try {
    for await (const batch of splitLines(decodeText(source), options.maxLineLength ?? DEFAULT_MAX_LINE)) {
      for (const line of batch) {
        lineNumber += 1;
        const row = lines.line(line, lineNumber);
        if (row !== undefined) yield row;
      }
    }
  } catch (error) {
    throw billTextError(error);
  }
  return lines.end(lineNumber);
}

function makeParser<Row, Summary>(
  source: TextSource,
  options: BillParseOptions,
  handler: BillHandler<Row, Summary>,
  what: string,
): BillParser<Row, Summary> {
  let started = false;
  let result: Summary | undefined;
  async function* rows(): AsyncGenerator<Row, Summary, undefined> {
    if (started) {
      throw new BillFormatError(BILL_FORMAT_CODES.incomplete, `the ${what} rows can be iterated only once`);
    }
    started = true;
    result = yield* runBill(source, options, handler);
    return result;
  }
  return {
    rows,
    [Symbol.asyncIterator]: () => rows(),
    summary() {
      if (result === undefined) {
        throw new BillFormatError(
          BILL_FORMAT_CODES.incomplete,
          `the ${what} summary is known only after every row was read without error`,
        );
      }
      return result;
    },
  };
}

function fieldCountError(what: string, line: number, got: number, expected: number): BillFormatError {
  return new BillFormatError(
    BILL_FORMAT_CODES.fieldCount,
    `${what} row on line ${line} has ${got} fields, the header has ${expected}`,
    { line },
  );
}

/** Running totals of a trade bill's detail rows, compared with its summary row at the end. */
export interface TradeBillTotals {
  count: bigint;
  settlement: bigint;
  refund: bigint;
  rechargeCouponRefund: bigint;
  fee: bigint;
  order: bigint;
  requestedRefund: bigint;
}

/**
 * The trade bill's handler, with what a second read path needs next to it: the column layout once the header was
 * read (undefined before), and the totals it accumulates (a path reading rows itself adds them here).
 */
export interface TradeBillHandler extends BillHandler<TradeBillRow, TradeBillSummary> {
  layout(): { layout: Layout<TradeColumnKey>; fieldCount: number } | undefined;
  readonly totals: TradeBillTotals;
}

export function tradeBillHandler(options: BillParseOptions = {}): TradeBillHandler {
  const unknownColumns = options.unknownColumns ?? 'error';
  let reader: FieldReader<TradeColumnKey> | undefined;
  let layout: Layout<TradeColumnKey> | undefined;
  let columns: string[] = [];
  const totals: TradeBillTotals = {
    count: 0n,
    settlement: 0n,
    refund: 0n,
    rechargeCouponRefund: 0n,
    fee: 0n,
    order: 0n,
    requestedRefund: 0n,
  };
  return {
    totals,
    layout: () => (layout === undefined ? undefined : { layout, fieldCount: columns.length }),
    header(names, line) {
      layout = layoutOf(names, TRADE_COLUMNS, REQUIRED_TRADE_COLUMNS, unknownColumns, line, 'trade bill');
      reader = new FieldReader(layout, TRADE_COLUMNS);
      columns = names;
    },
    row(fields, line) {
      const r = reader!;
      if (fields.length !== columns.length)
        throw fieldCountError('trade bill', line, fields.length, columns.length);
      r.fields = fields;
      r.line = line;
      const feeMicro = r.amount('feeMicro', FEE_SCALE, false);
      const row: TradeBillRow = {
        line,
        tradeTime: r.time('tradeTime'),
        appid: r.text('appid'),
        mchid: r.text('mchid'),
        subMchid: r.optionalId('subMchid'),
        deviceInfo: r.text('deviceInfo'),
        transactionId: r.text('transactionId'),
        outTradeNo: r.text('outTradeNo'),
        openid: r.text('openid'),
        tradeType: r.text('tradeType'),
        tradeState: r.text('tradeState'),
        bankType: r.text('bankType'),
        currency: r.currency('currency'),
        settlementAmountFen: r.amount('settlementAmountFen', AMOUNT_SCALE, false),
        couponAmountFen: r.amount('couponAmountFen', AMOUNT_SCALE, true),
        refundRequestedAt: r.optionalTime('refundRequestedAt'),
        refundSucceededAt: r.optionalTime('refundSucceededAt'),
        refundId: r.optionalId('refundId'),
        outRefundNo: r.optionalId('outRefundNo'),
        refundAmountFen: r.amount('refundAmountFen', AMOUNT_SCALE, true),
        rechargeCouponRefundFen: r.amount('rechargeCouponRefundFen', AMOUNT_SCALE, true),
        refundType: r.text('refundType'),
        refundStatus: r.text('refundStatus'),
        productName: r.text('productName'),
        attach: r.text('attach'),
        feeMicro,
        feeFen: feeMicro % 1000n === 0n ? feeMicro / 1000n : null,
        feeRate: r.text('feeRate'),
        orderAmountFen: r.amount('orderAmountFen', AMOUNT_SCALE, false),
        requestedRefundAmountFen: r.amount('requestedRefundAmountFen', AMOUNT_SCALE, true),
        rateNote: r.text('rateNote'),
      };
      totals.count += 1n;
      totals.settlement += row.settlementAmountFen;
      totals.refund += row.refundAmountFen;
      totals.rechargeCouponRefund += row.rechargeCouponRefundFen;
      totals.fee += row.feeMicro;
      totals.order += row.orderAmountFen;
      totals.requestedRefund += row.requestedRefundAmountFen;
      return row;
    },
    summary(names, values, line) {
      const checks: SummaryCheck<TradeSummaryKey>[] = [
        { key: 'count', kind: 'count', computed: totals.count },
        { key: 'settlementTotalFen', kind: 'amount', computed: totals.settlement },
        { key: 'refundTotalFen', kind: 'amount', computed: totals.refund },
        { key: 'rechargeCouponRefundTotalFen', kind: 'amount', computed: totals.rechargeCouponRefund },
        { key: 'feeTotalMicro', kind: 'fee', computed: totals.fee },
        { key: 'orderTotalFen', kind: 'amount', computed: totals.order },
        { key: 'requestedRefundTotalFen', kind: 'amount', computed: totals.requestedRefund },
      ];
      const declaredTotals = verifySummary(
        names,
        values,
        line,
        TRADE_SUMMARY_COLUMNS,
        'count',
        checks,
        unknownColumns,
        'trade bill',
      );
      return {
        kind: 'trade',
        columns,
        declaredTotals,
        rowCount: Number(totals.count),
        settlementTotalFen: totals.settlement,
        refundTotalFen: totals.refund,
        rechargeCouponRefundTotalFen: totals.rechargeCouponRefund,
        feeTotalMicro: totals.fee,
        orderTotalFen: totals.order,
        requestedRefundTotalFen: totals.requestedRefund,
      };
    },
  };
}

/** Parses a trade bill (any bill_type: columns are mapped by header name). */
export function parseTradeBill(
  source: TextSource,
  options: BillParseOptions = {},
): BillParser<TradeBillRow, TradeBillSummary> {
  return makeParser(source, options, tradeBillHandler(options), 'trade bill');
}

const DIRECTIONS: ReadonlyMap<string, FundFlowDirection> = new Map(Object.entries(FUND_FLOW_DIRECTIONS));

/** Parses a fund-flow bill (BASIC / OPERATION / FEES account, or a decrypted sub-merchant fund-flow bill). */
export function parseFundFlowBill(
  source: TextSource,
  options: BillParseOptions = {},
): BillParser<FundFlowBillRow, FundFlowBillSummary> {
  const unknownColumns = options.unknownColumns ?? 'error';
  let reader: FieldReader<FundFlowColumnKey> | undefined;
  let columns: string[] = [];
  const totals = { count: 0n, incomeCount: 0n, income: 0n, expenseCount: 0n, expense: 0n };
  const handler: BillHandler<FundFlowBillRow, FundFlowBillSummary> = {
    header(names, line) {
      const layout = layoutOf(
        names,
        FUND_FLOW_COLUMNS,
        REQUIRED_FUND_FLOW_COLUMNS,
        unknownColumns,
        line,
        'fund-flow bill',
      );
      reader = new FieldReader(layout, FUND_FLOW_COLUMNS);
      columns = names;
    },
    row(fields, line) {
      const r = reader!;
      if (fields.length !== columns.length) {
        throw fieldCountError('fund-flow bill', line, fields.length, columns.length);
      }
      r.fields = fields;
      r.line = line;
      const direction = DIRECTIONS.get(r.text('direction').trim());
      if (direction === undefined) throw r.badValue('direction', '收入 or 支出');
      const amountFen = r.amount('amountFen', AMOUNT_SCALE, false);
      const magnitude = amountFen < 0n ? -amountFen : amountFen;
      const row: FundFlowBillRow = {
        line,
        bookedAt: r.time('bookedAt'),
        businessId: r.text('businessId'),
        flowId: r.text('flowId'),
        businessName: r.text('businessName'),
        businessType: r.text('businessType'),
        direction,
        amountFen,
        signedAmountFen: direction === 'income' ? magnitude : -magnitude,
        balanceFen: r.amount('balanceFen', AMOUNT_SCALE, false),
        applicant: r.text('applicant'),
        note: r.text('note'),
        voucherNo: r.text('voucherNo'),
      };
      totals.count += 1n;
      if (direction === 'income') {
        totals.incomeCount += 1n;
        totals.income += magnitude;
      } else {
        totals.expenseCount += 1n;
        totals.expense += magnitude;
      }
      return row;
    },
    summary(names, values, line) {
      // Amount totals are compared as magnitudes: the bill writes expense amounts without a sign, but whether
      // 支出金额 could carry one is unconfirmed, so a signed summary value is accepted too.
      const checks: SummaryCheck<FundFlowSummaryKey>[] = [
        { key: 'count', kind: 'count', computed: totals.count },
        { key: 'incomeCount', kind: 'count', computed: totals.incomeCount },
        { key: 'incomeFen', kind: 'magnitude', computed: totals.income },
        { key: 'expenseCount', kind: 'count', computed: totals.expenseCount },
        { key: 'expenseFen', kind: 'magnitude', computed: totals.expense },
      ];
      const declaredTotals = verifySummary(
        names,
        values,
        line,
        FUND_FLOW_SUMMARY_COLUMNS,
        'count',
        checks,
        unknownColumns,
        'fund-flow bill',
      );
      return {
        kind: 'fundflow',
        columns,
        declaredTotals,
        rowCount: Number(totals.count),
        incomeCount: Number(totals.incomeCount),
        incomeFen: totals.income,
        expenseCount: Number(totals.expenseCount),
        expenseFen: totals.expense,
      };
    },
  };
  return makeParser(source, options, handler, 'fund-flow bill');
}
