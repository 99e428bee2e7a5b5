// matched.csv straight from the join: `COPY (select …) TO STDOUT (format binary)` streams the raw cells of every
// matched line in report order, and this process turns them into CSV records as they arrive, with backpressure into
// a local file. No postgres.js row objects, no ReconItem: on a million-line bill that cursor path was the run's
// longest stage (docs/benchmarks.md, "Case 5 after session 6, part reconscale").
//
// The bytes are those of report-csv.ts's writeMatchedCsv (the reference writer, kept for tests): the same functions
// build them (amountText, minorToDecimal, Date#toISOString, csvRecords with the formula guard and quoting).
// Session 6 built each record in SQL instead; auto_explain showed those cell expressions (guard, quoting, decimal
// text, to_char) were 70 % of the statement, on PostgreSQL's core while this process waited (docs/benchmarks.md,
// "Case 5 after session 7"). Now PostgreSQL only joins and sorts, and the formatting runs on the other core.
//
// Binary format, not text or csv: each cell arrives as length-prefixed bytes (no escaping to undo) and the time as
// 8 bytes of microseconds.
import { createWriteStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Provider } from '../../ledger/changes.ts';
import type { Sql } from '../../ledger/db.ts';
import { csvField } from './csv-record.ts';
import { providerCurrencyExponent } from './report-amounts.ts';
import { csvRecords, MATCHED_COLUMNS, spreadsheetSafe, UTF8_BOM } from './report-csv.ts';
import { plainMatchColumns } from './run-repository.ts';

/** A SQL string literal (standard_conforming_strings is on: only quotes need doubling). COPY takes no parameters. */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * The cells of a matched line as COPY sends them, in MATCHED_COLUMNS order, each one text column (NULL allowed)
 * except `occurred_at` (timestamptz, 8 bytes: microseconds since 2000-01-01 UTC).
 */
const RAW_CELLS = [
  'kind',
  'provider_payment_id',
  'provider_refund_id',
  'payout_id',
  'merchant_order_no',
  'merchant_refund_no',
  'trim(bill_currency)',
  'bill_amount_minor::text',
  'bill_status',
  'fee_scaled::text',
  'fee_scale::text',
  'occurred_at',
  'source',
  'line_no::text',
  'healed_from',
] as const;

/**
 * The COPY statement of a run's matched lines, raw cells in report order (exported for tests). One pass over the
 * run's classified lines, each with its item if it has one (matching writes at most one per line): no item is a plain
 * match, a `matched` item a healed one (same cells, and its healed_from), any other item a break, left out. No union
 * with the items and no join with recon_runs (the provider is read once, by an uncorrelated sub-select): the union
 * sorted every row before sending the first; now the first rows reach this process within ≈ 0.1 s per 200,000 lines.
 */
export function matchedCopyStatement(runId: string): string {
  const run = literal(runId);
  const provider = `(select r.provider from recon_runs r where r.run_id = ${run})`;
  return `copy (
    select ${RAW_CELLS.join(', ')}
    from (
      select ${plainMatchColumns(provider, 'i.healed_from')}
        from recon_lines l
        left join recon_items i on i.run_id = l.run_id and i.source = l.source and i.line_no = l.line_no
       where l.run_id = ${run} and (l.kind in ('payment', 'refund') or (l.kind = 'payout' and l.source = 'payouts'))
         and (i.class is null or i.class = 'matched')
    ) u order by u.source, u.line_no -- qualified: the output column line_no is text (would sort '10' < '2')
  ) to stdout (format binary)`;
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

const EMPTY = Buffer.alloc(0);
/** Output is pushed in chunks of about this many bytes (COPY sends one message per row: not one small push each). */
const BATCH_BYTES = 65_536;

/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;

/** Date's range: ±100,000,000 days around 1970-01-01, in milliseconds. */
const MAX_DATE_MS = 8.64e15;
const DAY_MS = 86_400_000;

const COMMA = 0x2c;
const COLON = 0x3a;
const QUOTE = 0x22;
const SPACE = 0x20;
const DOT = 0x2e;
const MINUS = 0x2d;
const ZERO = 0x30;

/**
 * Copies a text cell's bytes to `out` at `at` when they need neither the formula guard nor quoting: printable ASCII
 * only (no control characters, no byte of a multi-byte character), no quote or comma, no space at either end, and
 * not starting with = + - @. Such a cell is its own CSV text (spreadsheetSafe and csvField return it unchanged).
 * Returns false, with `out` past `at` left as garbage, for any other cell, which is then decoded and takes the
 * reference functions (Unicode whitespace, CJK, formula-leading text, …). One pass: checked while copied.
 */
function copyPlainCell(data: Buffer, start: number, length: number, out: Buffer, at: number): boolean {
  const first = data[start]!;
  if (first === SPACE || first === 0x3d || first === 0x2b || first === MINUS || first === 0x40) return false;
  if (data[start + length - 1] === SPACE) return false;
  for (let i = 0; i < length; i += 1) {
    const b = data[start + i]!;
    if (b < SPACE || b > 0x7e || b === QUOTE || b === COMMA) return false;
    out[at + i] = b;
  }
  return true;
}

/**
 * COPY binary of RAW_CELLS → matched.csv records, byte for byte those of writeMatchedCsv: the same cells (amounts
 * through amountText, the fee through minorToDecimal at its scale, times as Date#toISOString) through the same
 * csvRecords (formula guard, quoting, CRLF). Header: 11-byte signature, flags, extension length (+ extension); each
 * tuple: int16 field count, per field int32 length (-1 = NULL) and bytes; trailer: int16 -1. A tuple cut by a chunk
 * boundary waits for the next chunk.
 *
 * Records are written as bytes into an output buffer: a plain ASCII text cell (copyPlainCell) is copied from the COPY
 * bytes, amounts and fees are written digit by digit from their int8 text; only other text cells are decoded to
 * strings (a string per cell and a record string re-encoded were most of this stage's CPU, session 11).
 */
export class MatchedCsvFromCopy extends Transform {
  private pending: Buffer = EMPTY;
  private headerDone = false;
  private ended = false;
  private readonly starts = new Int32Array(RAW_CELLS.length);
  private readonly lengths = new Int32Array(RAW_CELLS.length);
  private out: Buffer = Buffer.allocUnsafe(2 * BATCH_BYTES);
  private at = 0;
  private readonly exponents = new Map<string, number>();
  /** The last currency cell's bytes and exponent: a bill has one or two currencies, looked up without decoding. */
  private lastCurrency: Buffer = EMPTY;
  private lastExponent = 2;
  /** isoTime's date parts ("YYYY-MM-DDT") by day number since 1970-01-01. */
  private readonly dayPrefixes = new Map<number, Buffer>();

  /** `prefix`: bytes pushed before the first record (matched.csv's BOM and header line). */
  constructor(
    private readonly provider: Provider,
    private readonly prefix?: Buffer,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    if (!this.headerDone) {
      if (data.length < 19) {
        this.pending = data;
        return done();
      }
      if (!data.subarray(0, 11).equals(SIGNATURE)) return done(new Error('not a COPY binary stream'));
      const extension = data.readInt32BE(15);
      if (data.length < 19 + extension) {
        this.pending = data;
        return done();
      }
      at = 19 + extension;
      this.headerDone = true;
      if (this.prefix) this.push(this.prefix);
    }
    const { starts, lengths } = this;
    while (at + 2 <= data.length && !this.ended) {
      const fields = data.readInt16BE(at);
      if (fields === -1) {
        this.ended = true;
        at += 2;
        break;
      }
      if (fields !== RAW_CELLS.length) {
        return done(new Error(`COPY binary: expected ${RAW_CELLS.length} fields, got ${fields}`));
      }
      let p = at + 2;
      let complete = true;
      for (let f = 0; f < fields; f += 1) {
        if (p + 4 > data.length) {
          complete = false;
          break;
        }
        const length = data.readInt32BE(p);
        p += 4;
        starts[f] = p;
        lengths[f] = length;
        if (length === -1) continue;
        if (p + length > data.length) {
          complete = false;
          break;
        }
        p += length;
      }
      if (!complete) break;
      this.record(data);
      at = p;
    }
    // What is left is shorter than one tuple (or the trailer): kept for the next chunk.
    this.pending = at < data.length ? Buffer.from(data.subarray(at)) : EMPTY;
    if (this.at >= BATCH_BYTES) this.flushOut();
    done();
  }

  /** Pushes what the output buffer holds and starts a new one (the pushed bytes stay the reader's). */
  private flushOut() {
    if (this.at === 0) return;
    this.push(this.out.subarray(0, this.at));
    this.out = Buffer.allocUnsafe(2 * BATCH_BYTES);
    this.at = 0;
  }

  /** Room for `bytes` more bytes in the output buffer. */
  private reserve(bytes: number) {
    if (this.at + bytes <= this.out.length) return;
    const held = this.out.subarray(0, this.at);
    this.out = Buffer.allocUnsafe(Math.max(2 * BATCH_BYTES, 2 * (this.at + bytes)));
    held.copy(this.out, 0);
  }

  private byte(b: number) {
    if (this.at === this.out.length) this.reserve(1);
    this.out[this.at] = b;
    this.at += 1;
  }

  private ascii(text: string) {
    this.reserve(text.length);
    this.at += this.out.write(text, this.at, 'latin1');
  }

  /** A text cell as csvRecords writes it: the formula guard, then the quoting; NULL is an empty cell. */
  private textCell(data: Buffer, f: number) {
    const length = this.lengths[f]!;
    if (length <= 0) return;
    const start = this.starts[f]!;
    this.reserve(length);
    if (copyPlainCell(data, start, length, this.out, this.at)) {
      this.at += length;
      return;
    }
    const text = cell(data.toString('utf8', start, start + length));
    const bytes = Buffer.byteLength(text, 'utf8');
    this.reserve(bytes);
    this.at += this.out.write(text, this.at, bytes, 'utf8');
  }

  /** A cell's bytes as they came (generated digits: line_no). */
  private rawCell(data: Buffer, f: number) {
    const length = this.lengths[f]!;
    if (length <= 0) return;
    const start = this.starts[f]!;
    this.reserve(length);
    const out = this.out;
    for (let i = 0; i < length; i += 1) out[this.at + i] = data[start + i]!;
    this.at += length;
  }

  /** minorToDecimal of an int8's text cell (as BigInt#toString writes it: no leading zeros, '-' sign). */
  private decimalCell(data: Buffer, f: number, exponent: number) {
    const length = this.lengths[f]!;
    if (length <= 0) return;
    let start = this.starts[f]!;
    const end = start + length;
    this.reserve(length + exponent + 3);
    if (data[start] === MINUS) {
      this.byte(MINUS);
      start += 1;
    }
    const digits = end - start;
    const total = Math.max(digits, exponent + 1);
    const pad = total - digits;
    const dotAt = total - exponent;
    for (let i = 0; i < total; i += 1) {
      if (i === dotAt && exponent > 0) this.byte(DOT);
      this.byte(i < pad ? ZERO : data[start + i - pad]!);
    }
  }

  /** writeMatchedCsv's record (matchedRow through csvRecords), from the raw cells of one tuple. */
  private record(data: Buffer) {
    const { starts, lengths } = this;
    for (let f = 0; f < 6; f += 1) {
      this.textCell(data, f);
      this.byte(COMMA);
    }
    this.textCell(data, CURRENCY);
    this.byte(COMMA);
    this.decimalCell(data, AMOUNT, this.currencyExponent(data));
    this.byte(COMMA);
    this.textCell(data, 8);
    this.byte(COMMA);
    if (lengths[FEE_SCALED]! >= 0 && lengths[FEE_SCALE]! >= 0) {
      this.decimalCell(data, FEE_SCALED, this.smallInt(data, FEE_SCALE));
    }
    this.byte(COMMA);
    if (lengths[OCCURRED_AT]! >= 0) {
      const p = starts[OCCURRED_AT]!;
      const micros = data.readInt32BE(p) * 4_294_967_296 + data.readUInt32BE(p + 4);
      this.isoTime(PG_EPOCH_MS + Math.floor(micros / 1000));
    }
    this.byte(COMMA);
    this.textCell(data, 12);
    this.byte(COMMA);
    this.rawCell(data, 13);
    this.byte(COMMA);
    this.textCell(data, 14);
    this.byte(0x0d);
    this.byte(0x0a);
  }

  /**
   * Date#toISOString of Unix milliseconds, written as bytes: the date part ("YYYY-MM-DDT", from toISOString itself)
   * once per day, the time of day digit by digit. A Date and a string per row were ≈ 0.15 s per 200,000 rows; a
   * bill's times fall on a day or two. Outside Date's range it still throws toISOString's RangeError.
   */
  private isoTime(ms: number) {
    if (!(ms >= -MAX_DATE_MS && ms <= MAX_DATE_MS)) {
      this.ascii(new Date(ms).toISOString());
      return;
    }
    const day = Math.floor(ms / DAY_MS);
    let prefix = this.dayPrefixes.get(day);
    if (prefix === undefined) {
      const iso = new Date(day * DAY_MS).toISOString();
      prefix = Buffer.from(iso.slice(0, iso.length - 'HH:mm:ss.sssZ'.length), 'latin1');
      if (this.dayPrefixes.size >= 64) this.dayPrefixes.clear();
      this.dayPrefixes.set(day, prefix);
    }
    this.reserve(prefix.length + 13);
    const out = this.out;
    let at = this.at;
    for (let i = 0; i < prefix.length; i += 1) out[at++] = prefix[i]!;
    let rest = ms - day * DAY_MS;
    const hours = Math.floor(rest / 3_600_000);
    rest -= hours * 3_600_000;
    const minutes = Math.floor(rest / 60_000);
    rest -= minutes * 60_000;
    const seconds = Math.floor(rest / 1000);
    const millis = rest - seconds * 1000;
    out[at++] = ZERO + Math.floor(hours / 10);
    out[at++] = ZERO + (hours % 10);
    out[at++] = COLON;
    out[at++] = ZERO + Math.floor(minutes / 10);
    out[at++] = ZERO + (minutes % 10);
    out[at++] = COLON;
    out[at++] = ZERO + Math.floor(seconds / 10);
    out[at++] = ZERO + (seconds % 10);
    out[at++] = DOT;
    out[at++] = ZERO + Math.floor(millis / 100);
    out[at++] = ZERO + (Math.floor(millis / 10) % 10);
    out[at++] = ZERO + (millis % 10);
    out[at++] = 0x5a; // Z
    this.at = at;
  }

  /** Number() of a small integer's text cell (fee_scale: one or two digits). */
  private smallInt(data: Buffer, f: number): number {
    const start = this.starts[f]!;
    const end = start + this.lengths[f]!;
    if (data[start] === MINUS) return Number(data.toString('latin1', start, end));
    let value = 0;
    for (let i = start; i < end; i += 1) value = value * 10 + (data[i]! - ZERO);
    return value;
  }

  /** amountText's exponent: the currency's in the provider's files, 2 without a currency. */
  private currencyExponent(data: Buffer): number {
    const length = this.lengths[CURRENCY]!;
    if (length <= 0) return 2;
    const start = this.starts[CURRENCY]!;
    const last = this.lastCurrency;
    if (last.length === length) {
      let same = true;
      for (let i = 0; i < length && same; i += 1) same = data[start + i] === last[i];
      if (same) return this.lastExponent;
    }
    const currency = data.toString('utf8', start, start + length);
    let exponent = this.exponents.get(currency);
    if (exponent === undefined) {
      exponent = providerCurrencyExponent(this.provider, currency);
      this.exponents.set(currency, exponent);
    }
    this.lastCurrency = Buffer.from(data.subarray(start, start + length));
    this.lastExponent = exponent;
    return exponent;
  }

  override _flush(done: TransformCallback) {
    if (!this.ended || this.pending.length > 0) return done(new Error('COPY binary: the stream was cut'));
    this.flushOut();
    done();
  }
}

const OCCURRED_AT = RAW_CELLS.indexOf('occurred_at');
const CURRENCY = RAW_CELLS.indexOf('trim(bill_currency)');
const AMOUNT = RAW_CELLS.indexOf('bill_amount_minor::text');
const FEE_SCALED = RAW_CELLS.indexOf('fee_scaled::text');
const FEE_SCALE = RAW_CELLS.indexOf('fee_scale::text');

/** A text cell as csvRecords writes it: the formula guard, then the quoting; NULL is an empty cell. */
const cell = (value: string) => csvField(spreadsheetSafe(value));

/**
 * Writes a run's matched.csv to a local file (same bytes as writeMatchedCsv): PostgreSQL streams the raw cells of
 * the join in report order, this process turns them into CSV records while the next ones arrive.
 */
export async function copyMatchedCsv(
  sql: Sql,
  provider: Provider,
  runId: string,
  file: string,
): Promise<void> {
  const copy = await sql.unsafe(matchedCopyStatement(runId)).readable();
  // The header first, then the records; the file is opened only once the COPY has started.
  const header = UTF8_BOM + csvRecords([MATCHED_COLUMNS]);
  await pipeline(
    copy,
    new MatchedCsvFromCopy(provider, Buffer.from(header, 'utf8')),
    createWriteStream(file),
  );
}
