// The load's read path of a trade bill: bill bytes → staging records (COPY csv) as bytes, without a TradeBillRow,
// `Date`s, `bigint`s or decoded text per row. A detail row in the common shape (plain amounts, "YYYY-MM-DD
// HH:mm:ss" times, A–Z currency, ids without surrounding spaces) is checked and written byte by byte; every other
// line — the header, the summary, blank lines and any row this path does not recognise — is decoded and goes
// through the parser's own state machine and handler (bill-parser.ts), which accepts it or throws exactly the
// error `parseTradeBill` throws. The output is byte-equal to `tradeBillStagingRecord` of the parsed rows (a
// property test holds the two paths equal, on good bills and on damaged ones).
import { isUtf8 } from 'node:buffer';
import { BILL_FORMAT_CODES, BillFormatError } from '../errors.ts';
import { LineTooLongFailure, TextDecodeFailure } from '../utf8-lines.ts';
import { parseBeijingTime } from '../wall-clock-time.ts';
import {
  AMOUNT_SCALE,
  FEE_SCALE,
  type TradeBillRow,
  type TradeBillSummary,
  type TradeColumnKey,
} from './bill-format.ts';
import {
  BillLines,
  type BillParseOptions,
  billTextError,
  DEFAULT_MAX_LINE,
  type TradeBillHandler,
  tradeBillHandler,
} from './bill-parser.ts';
import { paymentStatus, quoted, refundStatus, tradeBillStagingRecord } from './bill-staging.ts';

/** Records joined per output chunk: one CopyData (or spool write) each. */
const CHUNK_BYTES = 262_144;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const BACKTICK = 0x60;
/** Running sums move to the handler's bigint totals before they could leave a double's exact range. */
const EXACT_SUM_LIMIT = 2 ** 52;
const CACHE_LIMIT = 4096;

const ascii = (text: string) => Buffer.from(text, 'latin1');
const PAYMENT = ascii(',"payment",');
const REFUND = ascii(',"refund",');
const FEE_SCALE_FIELD = ascii(`,${FEE_SCALE},"`);

/** Trade bill columns the staging record or the checks read, with their field index (-1: absent). */
const COLUMNS = [
  'tradeTime',
  'subMchid',
  'transactionId',
  'outTradeNo',
  'tradeState',
  'currency',
  'settlementAmountFen',
  'couponAmountFen',
  'refundRequestedAt',
  'refundSucceededAt',
  'refundId',
  'outRefundNo',
  'refundAmountFen',
  'rechargeCouponRefundFen',
  'refundStatus',
  'feeMicro',
  'orderAmountFen',
  'requestedRefundAmountFen',
] as const satisfies readonly TradeColumnKey[];
type Column = (typeof COLUMNS)[number];

export interface TradeBillStagingOptions extends BillParseOptions {
  /** Hears the 特约商户号 of every row that names one (a service provider's bill). */
  onSubMerchant?: (subMchid: string) => void;
}

/**
 * Length of a valid but unfinished UTF-8 sequence at the end of `bytes` (0 when the bytes end on a character
 * boundary or in an invalid sequence, which the validator then reports as the streaming decoder does).
 */
function unfinishedTail(bytes: Uint8Array): number {
  const length = bytes.length;
  for (let back = 1; back <= 3 && back <= length; back += 1) {
    const byte = bytes[length - back]!;
    if (byte < 0x80) return 0;
    if (byte < 0xc0) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
    if (byte < 0xc2 || byte > 0xf4 || needed <= back) return 0;
    if (back >= 2) {
      const second = bytes[length - back + 1]!;
      const low = byte === 0xe0 ? 0xa0 : byte === 0xf0 ? 0x90 : 0x80;
      const high = byte === 0xed ? 0x9f : byte === 0xf4 ? 0x8f : 0xbf;
      if (second < low || second > high) return 0;
    }
    return back;
  }
  return 0;
}

/**
 * One trade bill's staging records. `chunks()` reads the bill's text bytes once (an OpenedBill: gunzipped,
 * hashed); `summary()` and `rows` are known once it ended without error.
 */
export class TradeBillStaging {
  rows = 0;
  private readonly handler: TradeBillHandler;
  private readonly lines: BillLines<TradeBillRow, TradeBillSummary>;
  private readonly prefix: Buffer;
  private readonly prefixText: string;
  private readonly maxLineLength: number;
  private result: TradeBillSummary | undefined;
  // Field positions of the row being read, and each read column's field index.
  private fieldStart = new Int32Array(32);
  private fieldEnd = new Int32Array(32);
  private fieldCount = -1;
  private readonly index = {} as Record<Column, number>;
  // Sums of the rows read here, not yet in the handler's totals.
  private count = 0;
  private settlement = 0;
  private refund = 0;
  private rechargeCouponRefund = 0;
  private fee = 0;
  private order = 0;
  private requestedRefund = 0;
  // The output chunk being filled.
  private out = Buffer.allocUnsafe(CHUNK_BYTES);
  private at = 0;
  private records = 0;
  private readonly done: { bytes: Buffer; records: number }[] = [];
  // Beijing day and hour → the UTC ISO text up to the minutes (or null: no such time), and status texts.
  private readonly hours = new Map<number, Buffer | null>();
  private readonly paymentStatuses = new Map<string, Buffer>();
  private readonly refundStatuses = new Map<string, Buffer>();

  constructor(
    prefix: string,
    private readonly options: TradeBillStagingOptions = {},
  ) {
    this.prefixText = prefix;
    this.prefix = Buffer.from(prefix, 'utf8');
    this.maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE;
    this.handler = tradeBillHandler(options);
    this.lines = new BillLines(this.handler);
  }

  summary(): TradeBillSummary {
    if (this.result === undefined) {
      throw new BillFormatError(
        BILL_FORMAT_CODES.incomplete,
        'the trade bill summary is known only after every row was read without error',
      );
    }
    return this.result;
  }

  async *chunks(source: AsyncIterable<Uint8Array>): AsyncGenerator<{ bytes: Buffer; records: number }> {
    let carry: Buffer = Buffer.alloc(0);
    let checked = 0;
    let lineNumber = 0;
    try {
      for await (const chunk of source) {
        const bytes = carry.length === 0 ? asBuffer(chunk) : Buffer.concat([carry, chunk]);
        const boundary = bytes.length - unfinishedTail(bytes);
        if (!isUtf8(bytes.subarray(checked, boundary))) {
          throw new TextDecodeFailure('the input is not valid UTF-8');
        }
        checked = boundary;
        let start = 0;
        for (let end = bytes.indexOf(LF); end !== -1; end = bytes.indexOf(LF, start)) {
          lineNumber += 1;
          this.line(bytes, start, end > start && bytes[end - 1] === CR ? end - 1 : end, lineNumber);
          start = end + 1;
        }
        carry = bytes.subarray(start);
        checked -= start;
        // A line without its end yet: one longer than the limit fails now, not when memory ran out.
        if (carry.length > 3 * (this.maxLineLength + 1) && carry.toString().length > this.maxLineLength + 1) {
          throw new LineTooLongFailure(lineNumber + 1);
        }
        yield* this.take();
      }
      if (checked < carry.length) throw new TextDecodeFailure('the input ends inside a UTF-8 character');
      if (carry.length > 0) {
        lineNumber += 1;
        this.line(carry, 0, carry[carry.length - 1] === CR ? carry.length - 1 : carry.length, lineNumber);
      }
    } catch (error) {
      throw billTextError(error);
    }
    this.flushTotals();
    this.result = this.lines.end(lineNumber);
    this.finishChunk();
    yield* this.take();
  }

  private *take(): Generator<{ bytes: Buffer; records: number }> {
    while (this.done.length > 0) yield this.done.shift()!;
  }

  private line(bytes: Buffer, start: number, stop: number, lineNumber: number): void {
    // The text's byte-order mark is not part of the first line (decodeText drops it).
    if (lineNumber === 1 && bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf) {
      start += 3;
    }
    if (
      stop - start > this.maxLineLength &&
      bytes.toString('utf8', start, stop).length > this.maxLineLength
    ) {
      throw new LineTooLongFailure(lineNumber);
    }
    if (bytes[start] === BACKTICK && this.lines.inRows && this.plainRow(bytes, start, stop, lineNumber))
      return;
    this.flushTotals();
    const row = this.lines.line(bytes.toString('utf8', start, stop), lineNumber);
    if (row === undefined) return;
    this.rows += 1;
    if (row.subMchid) this.options.onSubMerchant?.(row.subMchid);
    const record = tradeBillStagingRecord(this.prefixText, row);
    this.reserve(3 * record.length);
    this.at += this.out.write(record, this.at, 'utf8');
    this.endRecord();
  }

  /** Finds the fields of a value line (",`"-separated after the first backtick); false for the wrong count. */
  private split(bytes: Buffer, start: number, stop: number): boolean {
    if (this.fieldCount < 0) this.prepareLayout();
    const count = this.fieldCount;
    const starts = this.fieldStart;
    const ends = this.fieldEnd;
    let n = 0;
    let from = start + 1;
    for (let i = from; i < stop - 1; i += 1) {
      if (bytes[i] === COMMA && bytes[i + 1] === BACKTICK) {
        if (n === count - 1) return false;
        starts[n] = from;
        ends[n] = i;
        n += 1;
        from = i + 2;
        i += 1;
      }
    }
    starts[n] = from;
    ends[n] = stop;
    return n + 1 === count;
  }

  private prepareLayout(): void {
    const { layout, fieldCount } = this.handler.layout()!;
    for (const column of COLUMNS) this.index[column] = layout[column];
    this.fieldCount = fieldCount;
    if (this.fieldStart.length <= fieldCount) {
      this.fieldStart = new Int32Array(fieldCount + 1);
      this.fieldEnd = new Int32Array(fieldCount + 1);
    }
    // An absent column reads as the empty field at the spare slot.
    this.fieldStart[fieldCount] = 0;
    this.fieldEnd[fieldCount] = 0;
  }

  private field(column: Column): number {
    const i = this.index[column];
    return i === -1 ? this.fieldCount : i;
  }

  /**
   * Checks and writes a detail row in the common shape; false (nothing written or summed) when any field is
   * outside it, so that the parser reads the line and decides.
   */
  private plainRow(bytes: Buffer, start: number, stop: number, lineNumber: number): boolean {
    if (!this.split(bytes, start, stop)) return false;
    const s = this.fieldStart;
    const e = this.fieldEnd;
    const fee = this.field('feeMicro');
    const feeMicro = plainAmount(bytes, s[fee]!, e[fee]!, FEE_SCALE, false);
    const tradeTime = this.field('tradeTime');
    const tradeHour = this.hourOf(bytes, s[tradeTime]!, e[tradeTime]!, false);
    const sub = this.field('subMchid');
    const subMchid = plainId(bytes, s[sub]!, e[sub]!);
    const currency = this.field('currency');
    const settlement = this.field('settlementAmountFen');
    const settlementFen = plainAmount(bytes, s[settlement]!, e[settlement]!, AMOUNT_SCALE, false);
    const coupon = this.field('couponAmountFen');
    const requestedAt = this.field('refundRequestedAt');
    const succeededAt = this.field('refundSucceededAt');
    const succeededHour = this.hourOf(bytes, s[succeededAt]!, e[succeededAt]!, true);
    const refundIdField = this.field('refundId');
    const refundId = plainId(bytes, s[refundIdField]!, e[refundIdField]!);
    const outRefundNoField = this.field('outRefundNo');
    const outRefundNo = plainId(bytes, s[outRefundNoField]!, e[outRefundNoField]!);
    const refund = this.field('refundAmountFen');
    const refundFen = plainAmount(bytes, s[refund]!, e[refund]!, AMOUNT_SCALE, true);
    const recharge = this.field('rechargeCouponRefundFen');
    const rechargeFen = plainAmount(bytes, s[recharge]!, e[recharge]!, AMOUNT_SCALE, true);
    const order = this.field('orderAmountFen');
    const orderFen = plainAmount(bytes, s[order]!, e[order]!, AMOUNT_SCALE, false);
    const requested = this.field('requestedRefundAmountFen');
    const requestedFen = plainAmount(bytes, s[requested]!, e[requested]!, AMOUNT_SCALE, true);
    if (
      Number.isNaN(feeMicro + settlementFen + refundFen + rechargeFen + orderFen + requestedFen) ||
      !tradeHour ||
      succeededHour === null ||
      subMchid < 0 ||
      refundId < 0 ||
      outRefundNo < 0 ||
      e[currency]! - s[currency]! !== 3 ||
      !isUpperAz(bytes[s[currency]!]!) ||
      !isUpperAz(bytes[s[currency]! + 1]!) ||
      !isUpperAz(bytes[s[currency]! + 2]!) ||
      Number.isNaN(plainAmount(bytes, s[coupon]!, e[coupon]!, AMOUNT_SCALE, true)) ||
      this.hourOf(bytes, s[requestedAt]!, e[requestedAt]!, true) === null
    ) {
      return false;
    }

    const state = this.field('tradeState');
    const isRefund = refundId > 0 || isRefundState(bytes, s[state]!, e[state]!);
    // Quoting at most doubles a field; a status's lower-case text may grow a little more.
    this.reserve(this.prefix.length + 4 * (stop - start) + 200);
    this.copy(this.prefix, 0, this.prefix.length);
    this.int(lineNumber);
    this.copy(isRefund ? REFUND : PAYMENT, 0, isRefund ? REFUND.length : PAYMENT.length);
    if (subMchid > 0) this.quoted(bytes, s[sub]!, e[sub]!);
    this.byte(COMMA);
    const transactionId = this.field('transactionId');
    this.optionalQuoted(bytes, s[transactionId]!, e[transactionId]!);
    this.byte(COMMA);
    if (isRefund && refundId > 0) this.quoted(bytes, s[refundIdField]!, e[refundIdField]!);
    this.byte(COMMA);
    const outTradeNo = this.field('outTradeNo');
    this.optionalQuoted(bytes, s[outTradeNo]!, e[outTradeNo]!);
    this.byte(COMMA);
    if (isRefund && outRefundNo > 0) this.quoted(bytes, s[outRefundNoField]!, e[outRefundNoField]!);
    this.byte(COMMA);
    this.byte(COMMA);
    this.byte(COMMA);
    this.int(isRefund ? (requestedFen > 0 ? requestedFen : refundFen) : orderFen);
    this.byte(COMMA);
    this.int(feeMicro);
    this.copy(FEE_SCALE_FIELD, 0, FEE_SCALE_FIELD.length);
    this.copy(bytes, s[currency]!, e[currency]!);
    this.byte(QUOTE);
    this.byte(COMMA);
    if (isRefund) {
      const refundState = this.field('refundStatus');
      const status = bytes.toString('utf8', s[refundState]!, e[refundState]!);
      const text = cached(this.refundStatuses, status, refundStatus);
      this.copy(text, 0, text.length);
      this.byte(COMMA);
      if (e[refundState]! > s[refundState]!) this.quoted(bytes, s[refundState]!, e[refundState]!);
      else this.quoted(bytes, s[state]!, e[state]!);
      this.byte(COMMA);
      if (e[succeededAt]! > s[succeededAt]!) this.time(succeededHour!, bytes, s[succeededAt]!);
      else this.time(tradeHour, bytes, s[tradeTime]!);
    } else {
      const text = cached(this.paymentStatuses, bytes.toString('utf8', s[state]!, e[state]!), paymentStatus);
      this.copy(text, 0, text.length);
      this.byte(COMMA);
      this.quoted(bytes, s[state]!, e[state]!);
      this.byte(COMMA);
      this.time(tradeHour, bytes, s[tradeTime]!);
    }
    this.byte(LF);
    this.endRecord();

    this.rows += 1;
    if (subMchid > 0 && this.options.onSubMerchant) {
      this.options.onSubMerchant(bytes.toString('utf8', s[sub]!, e[sub]!));
    }
    this.count += 1;
    this.settlement += settlementFen;
    this.refund += refundFen;
    this.rechargeCouponRefund += rechargeFen;
    this.fee += feeMicro;
    this.order += orderFen;
    this.requestedRefund += requestedFen;
    if (
      Math.abs(this.settlement) >= EXACT_SUM_LIMIT ||
      Math.abs(this.refund) >= EXACT_SUM_LIMIT ||
      Math.abs(this.rechargeCouponRefund) >= EXACT_SUM_LIMIT ||
      Math.abs(this.fee) >= EXACT_SUM_LIMIT ||
      Math.abs(this.order) >= EXACT_SUM_LIMIT ||
      Math.abs(this.requestedRefund) >= EXACT_SUM_LIMIT
    ) {
      this.flushTotals();
    }
    return true;
  }

  /**
   * The UTC ISO text up to the minutes of a "YYYY-MM-DD HH:mm:ss" Beijing time (Beijing is a whole number of hours
   * from UTC: minutes and seconds carry over), undefined for an empty optional field, null when outside the shape.
   */
  private hourOf(bytes: Buffer, start: number, stop: number, optional: boolean): Buffer | null | undefined {
    if (start === stop && optional) return undefined;
    if (
      stop - start !== 19 ||
      bytes[start + 4] !== MINUS ||
      bytes[start + 7] !== MINUS ||
      bytes[start + 10] !== 0x20 ||
      bytes[start + 13] !== 0x3a ||
      bytes[start + 16] !== 0x3a
    ) {
      return null;
    }
    let key = 0;
    for (const at of [0, 1, 2, 3, 5, 6, 8, 9, 11, 12]) {
      const digit = bytes[start + at]! - ZERO;
      if (digit < 0 || digit > 9) return null;
      key = key * 10 + digit;
    }
    const minuteTens = bytes[start + 14]! - ZERO;
    const secondTens = bytes[start + 17]! - ZERO;
    if (minuteTens < 0 || minuteTens > 5 || secondTens < 0 || secondTens > 5) return null;
    if (!isDigit(bytes[start + 15]!) || !isDigit(bytes[start + 18]!)) return null;
    let hour = this.hours.get(key);
    if (hour === undefined) {
      const date = parseBeijingTime(`${bytes.toString('latin1', start, start + 13)}:00:00`);
      const iso = date?.toISOString();
      hour = iso === undefined ? null : ascii(iso.slice(0, -10));
      if (this.hours.size < CACHE_LIMIT) this.hours.set(key, hour);
    }
    return hour;
  }

  /** Writes a time read by hourOf: its UTC hour text, then the minutes and seconds as the bill has them. */
  private time(hour: Buffer, bytes: Buffer, start: number): void {
    this.copy(hour, 0, hour.length);
    this.copy(bytes, start + 14, start + 19);
    this.byte(DOT);
    this.byte(ZERO);
    this.byte(ZERO);
    this.byte(ZERO);
    this.byte(0x5a);
  }

  private flushTotals(): void {
    const totals = this.handler.totals;
    totals.count += BigInt(this.count);
    totals.settlement += BigInt(this.settlement);
    totals.refund += BigInt(this.refund);
    totals.rechargeCouponRefund += BigInt(this.rechargeCouponRefund);
    totals.fee += BigInt(this.fee);
    totals.order += BigInt(this.order);
    totals.requestedRefund += BigInt(this.requestedRefund);
    this.count = 0;
    this.settlement = 0;
    this.refund = 0;
    this.rechargeCouponRefund = 0;
    this.fee = 0;
    this.order = 0;
    this.requestedRefund = 0;
  }

  /** Room for `bytes` more in the output chunk; a full chunk is set aside for the next yield. */
  private reserve(bytes: number): void {
    if (this.at + bytes <= this.out.length) return;
    this.finishChunk();
    this.out = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
  }

  private endRecord(): void {
    this.records += 1;
    if (this.at >= CHUNK_BYTES) {
      this.finishChunk();
      this.out = Buffer.allocUnsafe(CHUNK_BYTES);
    }
  }

  private finishChunk(): void {
    if (this.records === 0) return;
    this.done.push({ bytes: this.out.subarray(0, this.at), records: this.records });
    this.out = Buffer.allocUnsafe(0);
    this.at = 0;
    this.records = 0;
  }

  private byte(value: number): void {
    this.out[this.at++] = value;
  }

  private copy(from: Uint8Array, start: number, stop: number): void {
    const out = this.out;
    let at = this.at;
    for (let i = start; i < stop; i += 1) out[at++] = from[i]!;
    this.at = at;
  }

  /** A text field of the record: quoted, quotes doubled (the COPY csv form of `quoted`). */
  private quoted(from: Uint8Array, start: number, stop: number): void {
    const out = this.out;
    let at = this.at;
    out[at++] = QUOTE;
    for (let i = start; i < stop; i += 1) {
      const byte = from[i]!;
      if (byte === QUOTE) out[at++] = QUOTE;
      out[at++] = byte;
    }
    out[at++] = QUOTE;
    this.at = at;
  }

  /** Empty text is NULL (an unquoted empty field). */
  private optionalQuoted(from: Uint8Array, start: number, stop: number): void {
    if (stop > start) this.quoted(from, start, stop);
  }

  /** A safe integer in decimal. */
  private int(value: number): void {
    let n = value;
    if (n < 0) {
      this.byte(MINUS);
      n = -n;
    }
    let digits = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits += 1;
    const out = this.out;
    const end = this.at + digits;
    for (let at = end - 1; at >= this.at; at -= 1) {
      out[at] = ZERO + (n % 10);
      n = Math.floor(n / 10);
    }
    this.at = end;
  }
}

const asBuffer = (chunk: Uint8Array) =>
  Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
const isDigit = (byte: number) => byte >= ZERO && byte <= ZERO + 9;
const isUpperAz = (byte: number) => byte >= 0x41 && byte <= 0x5a;

/** 交易状态 exactly "REFUND": the row is a refund (tradeBillLine's rule, with a refund id as the other case). */
function isRefundState(bytes: Buffer, start: number, stop: number): boolean {
  return stop - start === 6 && bytes.toString('latin1', start, stop) === 'REFUND';
}

/** The quoted status text for a bill's state text, computed once per distinct text. */
function cached(cache: Map<string, Buffer>, state: string, status: (state: string) => string): Buffer {
  let text = cache.get(state);
  if (text === undefined) {
    text = Buffer.from(quoted(status(state)), 'utf8');
    if (cache.size < CACHE_LIMIT) cache.set(state, text);
  }
  return text;
}

/**
 * An amount in the parser's plain shape — an optional '-', 1–15 digits, '.', exactly `scale` digits — as a
 * number (exact: below 2^53), 0 for an empty field where empty means zero, NaN for anything else (the parser
 * then reads it, with its checks and errors).
 */
function plainAmount(
  bytes: Buffer,
  start: number,
  stop: number,
  scale: number,
  emptyIsZero: boolean,
): number {
  if (start === stop) return emptyIsZero ? 0 : Number.NaN;
  const negative = bytes[start] === MINUS;
  const from = negative ? start + 1 : start;
  const dot = stop - scale - 1;
  if (dot <= from || stop - from > 16 || bytes[dot] !== DOT) return Number.NaN;
  let n = 0;
  for (let i = from; i < stop; i += 1) {
    if (i === dot) continue;
    const digit = bytes[i]! - ZERO;
    if (digit < 0 || digit > 9) return Number.NaN;
    n = n * 10 + digit;
  }
  return negative ? -n : n;
}

/**
 * An id the bill writes as `0` or empty when there is none: 0 for none, 1 for an id (the field as is), -1 when it
 * has leading or trailing bytes other than printable ASCII (the parser trims those).
 */
function plainId(bytes: Buffer, start: number, stop: number): number {
  if (start === stop) return 0;
  if (stop - start === 1 && bytes[start] === ZERO) return 0;
  const first = bytes[start]!;
  const last = bytes[stop - 1]!;
  return first > 0x20 && first < 0x7f && last > 0x20 && last < 0x7f ? 1 : -1;
}
