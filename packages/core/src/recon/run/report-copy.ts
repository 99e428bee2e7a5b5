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
const BATCH_CHARS = 65_536;

/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;

/**
 * COPY binary of RAW_CELLS → matched.csv records, byte for byte those of writeMatchedCsv: the same cells (amounts
 * through amountText, the fee through minorToDecimal at its scale, times as Date#toISOString) through the same
 * csvRecords (formula guard, quoting, CRLF). Header: 11-byte signature, flags, extension length (+ extension); each
 * tuple: int16 field count, per field int32 length (-1 = NULL) and bytes; trailer: int16 -1. A tuple cut by a chunk
 * boundary waits for the next chunk.
 */
export class MatchedCsvFromCopy extends Transform {
  private pending: Buffer = EMPTY;
  private records = '';
  private headerDone = false;
  private ended = false;
  private readonly cells: (string | null)[] = new Array(RAW_CELLS.length).fill(null);
  private readonly exponents = new Map<string, number>();

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
    const cells = this.cells;
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
        if (length === -1) {
          cells[f] = null;
          continue;
        }
        if (p + length > data.length) {
          complete = false;
          break;
        }
        if (f === OCCURRED_AT) {
          const micros = data.readInt32BE(p) * 4_294_967_296 + data.readUInt32BE(p + 4);
          cells[f] = new Date(PG_EPOCH_MS + Math.floor(micros / 1000)).toISOString();
        } else cells[f] = data.toString('utf8', p, p + length);
        p += length;
      }
      if (!complete) break;
      this.records += this.record(cells);
      at = p;
    }
    // What is left is shorter than one tuple (or the trailer): kept for the next chunk.
    this.pending = at < data.length ? Buffer.from(data.subarray(at)) : EMPTY;
    // COPY sends one message per row: records are pushed in batches, not one small write each.
    if (this.records.length >= BATCH_CHARS) {
      this.push(Buffer.from(this.records, 'utf8'));
      this.records = '';
    }
    done();
  }

  /**
   * writeMatchedCsv's record (matchedRow through csvRecords), from the raw cells. Amount, fee, time and line are
   * generated text — digits, '-' only before a number, '.', ':', 'T', 'Z' — which the formula guard and the quoting
   * leave unchanged, so they skip both; every other cell takes the reference path.
   */
  private record(c: readonly (string | null)[]): string {
    const currency = c[6] ?? null;
    const amount = c[7] ?? null;
    const feeScaled = c[9] ?? null;
    const feeScale = c[10] ?? null;
    const amountCell = amount === null ? '' : decimalText(amount, this.exponent(currency));
    const feeCell = feeScaled === null || feeScale === null ? '' : decimalText(feeScaled, Number(feeScale));
    return `${cell(c[0])},${cell(c[1])},${cell(c[2])},${cell(c[3])},${cell(c[4])},${cell(c[5])},${cell(currency)},${amountCell},${cell(c[8])},${feeCell},${c[OCCURRED_AT] ?? ''},${cell(c[12])},${c[13] ?? ''},${cell(c[14])}\r\n`;
  }

  /** amountText's exponent: the currency's in the provider's files, 2 without a currency. */
  private exponent(currency: string | null): number {
    if (currency === null || currency === '') return 2;
    let exponent = this.exponents.get(currency);
    if (exponent === undefined) {
      exponent = providerCurrencyExponent(this.provider, currency);
      this.exponents.set(currency, exponent);
    }
    return exponent;
  }

  override _flush(done: TransformCallback) {
    if (!this.ended || this.pending.length > 0) return done(new Error('COPY binary: the stream was cut'));
    if (this.records.length > 0) this.push(Buffer.from(this.records, 'utf8'));
    this.records = '';
    done();
  }
}

const OCCURRED_AT = RAW_CELLS.indexOf('occurred_at');

/** A text cell as csvRecords writes it: the formula guard, then the quoting; NULL is an empty cell. */
const cell = (value: string | null | undefined) => csvField(spreadsheetSafe(value ?? ''));

/** minorToDecimal of an int8's text (PostgreSQL writes it as BigInt#toString does: no leading zeros, '-' sign). */
function decimalText(minor: string, exponent: number): string {
  const negative = minor.charCodeAt(0) === 45;
  const digits = (negative ? minor.slice(1) : minor).padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  const fraction = exponent === 0 ? '' : `.${digits.slice(-exponent)}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

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
