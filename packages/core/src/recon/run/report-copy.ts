// matched.csv straight from the join: `COPY (select …) TO STDOUT (format binary)`, each row one finished CSV record
// built in SQL, streamed into a local file with backpressure. No row object, no JavaScript per cell: on a
// million-line bill the cursor path (postgres.js row parsing, matchedRow, the formula guard, CSV quoting per row)
// was the run's longest stage (docs/benchmarks.md, "Case 5 after session 6, part reconscale").
//
// The bytes are those of report-csv.ts's writeMatchedCsv (the reference writer, kept for tests): the same BOM and
// header, each text cell through the same formula guard (spreadsheetSafe) and the same quoting (csvField, including
// JavaScript's \s at either edge), amounts as minorToDecimal in the provider's currency exponent, times as
// Date#toISOString (milliseconds, truncated), CRLF after each record. Cells that are generated (kind, amounts, fee,
// time, line number, healed_from's class name) cannot start with = + @ TAB CR, only '-' before a number (which the
// guard keeps), and hold no quote, comma or edge whitespace, so they skip the guard.
//
// Binary format, not csv: a CSV-format COPY would quote the whole record (it holds commas and CRLF) and cannot
// write CRLF; a text-format COPY escapes backslashes and control characters. In binary each record arrives as
// length-prefixed bytes, copied out unchanged.
import { createWriteStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Provider } from '../../ledger/changes.ts';
import type { Sql } from '../../ledger/db.ts';
import { providerCurrencyExponent } from './report-amounts.ts';
import { csvRecords, MATCHED_COLUMNS, UTF8_BOM } from './report-csv.ts';
import { ITEM_MATCH_COLUMNS, PLAIN_MATCH_COLUMNS } from './run-repository.ts';

/** A SQL string literal (standard_conforming_strings is on: only quotes need doubling). COPY takes no parameters. */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

// JavaScript's \s (ECMAScript WhiteSpace and LineTerminator), as a regex bracket body for PostgreSQL.
const JS_SPACE = String.raw`\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff`;

/** spreadsheetSafe in SQL, of a text expression (null is an empty cell). */
function guarded(expr: string): string {
  const v = `coalesce(${expr}, '')`;
  return `case when left(${v}, 1) in ('=', '+', '-', '@', E'\\t', E'\\r') and ${v} !~ '^-?[0-9]+(\\.[0-9]+)?$'
               then '''' || ${v} else ${v} end`;
}

/** csvField in SQL, of a column already through the guard. */
function quoted(column: string): string {
  return `case when ${column} ~ '[",\\r\\n]|^[${JS_SPACE}]|[${JS_SPACE}]$'
               then '"' || replace(${column}, '"', '""') || '"' else ${column} end`;
}

/** minorToDecimal in SQL: a bigint of minor units as a decimal with `exponent` decimals ('' for null). */
function decimalCell(minor: string, exponent: string): string {
  const digits = `(case when length(abs(${minor})::text) < ${exponent} + 1 then lpad(abs(${minor})::text, ${exponent} + 1, '0') else abs(${minor})::text end)`;
  return `coalesce(case when ${minor} < 0 then '-' else '' end ||
    case when ${exponent} = 0 then abs(${minor})::text else left(${digits}, -${exponent}) || '.' || right(${digits}, ${exponent}) end, '')`;
}

/** The exponent of each currency the run's matched lines carry, as JavaScript's report computes it. */
async function exponentCase(sql: Sql, provider: Provider, runId: string, column: string): Promise<string> {
  const rows = await sql<{ currency: string }[]>`
    select distinct trim(currency) as currency from recon_lines where run_id = ${runId} and currency is not null
    union
    select distinct trim(bill_currency) from recon_items
     where run_id = ${runId} and class = 'matched' and bill_currency is not null`;
  const arms = rows
    .filter((r) => r.currency !== '')
    .map((r) => ({ currency: r.currency, exponent: providerCurrencyExponent(provider, r.currency) }))
    .filter((r) => r.exponent !== 2)
    .map((r) => `when ${literal(r.currency)} then ${r.exponent}`);
  return arms.length === 0 ? '2' : `(case trim(${column}) ${arms.join(' ')} else 2 end)`;
}

/** The COPY statement of a run's matched.csv records (exported for tests). */
export async function matchedCopyStatement(sql: Sql, provider: Provider, runId: string): Promise<string> {
  const run = literal(runId);
  const exponent = await exponentCase(sql, provider, runId, 'm.bill_currency');
  // Text cells: guarded in the middle layer, quoted outside (each guarded value is then a plain column).
  const text = [
    'provider_payment_id',
    'provider_refund_id',
    'payout_id',
    'merchant_order_no',
    'merchant_refund_no',
    'bill_currency',
    'bill_status',
    'source',
  ];
  const guardedCells = text.map(
    (column) =>
      `${guarded(column === 'bill_currency' ? 'trim(m.bill_currency)' : `m.${column}`)} as g_${column}`,
  );
  const generated = [
    "coalesce(m.kind, '') as kind",
    `${decimalCell('m.bill_amount_minor', exponent)} as amount`,
    `case when m.fee_scaled is null or m.fee_scale is null then '' else ${decimalCell('m.fee_scaled', 'm.fee_scale')} end as fee`,
    `coalesce(to_char(m.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '') as occurred`,
    `coalesce(m.line_no::text, '') as line`,
    `coalesce(m.healed_from, '') as healed_from`,
  ];
  const q = (column: string) => quoted(`g.g_${column}`);
  const record = [
    'g.kind',
    q('provider_payment_id'),
    q('provider_refund_id'),
    q('payout_id'),
    q('merchant_order_no'),
    q('merchant_refund_no'),
    q('bill_currency'),
    'g.amount',
    q('bill_status'),
    'g.fee',
    'g.occurred',
    q('source'),
    'g.line',
    'g.healed_from',
  ];
  // `offset 0` keeps each layer a subquery: flattened, every use of a column would re-run its expression (the plain
  // matches' ledger look-ups, the guard).
  return `copy (
    select concat_ws(',', ${record.join(',\n      ')}) || E'\\r\\n'
    from (
      select ${[...generated, ...guardedCells].join(',\n        ')}
      from (
        select * from (
          select ${PLAIN_MATCH_COLUMNS}
            from recon_plain_matches l join recon_runs r on r.run_id = l.run_id
           where l.run_id = ${run}
          union all
          select ${ITEM_MATCH_COLUMNS} from recon_items
           where run_id = ${run} and class = 'matched' and source is not null
        ) u order by source, line_no offset 0
      ) m offset 0
    ) g
  ) to stdout (format binary)`;
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * COPY binary of one text column → the column's bytes, record after record. Header: 11-byte signature, flags,
 * extension length (+ extension); each tuple: int16 field count, int32 length, bytes; trailer: int16 -1.
 */
export class CopyBinaryText extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private headerDone = false;
  private ended = false;
  private readonly prefix: Buffer | undefined;

  /** `prefix`: bytes pushed before the first record (matched.csv's BOM and header line). */
  constructor(options: { prefix?: Buffer } = {}) {
    super();
    this.prefix = options.prefix;
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
    const out = Buffer.allocUnsafe(data.length);
    let written = 0;
    while (at + 2 <= data.length && !this.ended) {
      const fields = data.readInt16BE(at);
      if (fields === -1) {
        this.ended = true;
        at += 2;
        break;
      }
      if (fields !== 1) return done(new Error(`COPY binary: expected 1 field, got ${fields}`));
      if (at + 6 > data.length) break;
      const length = data.readInt32BE(at + 2);
      if (length < 0) return done(new Error('COPY binary: a null record'));
      if (at + 6 + length > data.length) break;
      written += data.copy(out, written, at + 6, at + 6 + length);
      at += 6 + length;
    }
    // What is left is shorter than one record (or the trailer): kept for the next chunk.
    this.pending = at < data.length ? Buffer.from(data.subarray(at)) : Buffer.alloc(0);
    if (written > 0) this.push(out.subarray(0, written));
    done();
  }

  override _flush(done: TransformCallback) {
    if (!this.ended || this.pending.length > 0) return done(new Error('COPY binary: the stream was cut'));
    done();
  }
}

/** Writes a run's matched.csv to a local file with COPY TO STDOUT (same bytes as writeMatchedCsv). */
export async function copyMatchedCsv(
  sql: Sql,
  provider: Provider,
  runId: string,
  file: string,
): Promise<void> {
  const statement = await matchedCopyStatement(sql, provider, runId);
  const copy = await sql.unsafe(statement).readable();
  // The header first, then the records as COPY sends them; the file is opened only once the COPY has started.
  const header = UTF8_BOM + csvRecords([MATCHED_COLUMNS]);
  await pipeline(copy, new CopyBinaryText({ prefix: Buffer.from(header, 'utf8') }), createWriteStream(file));
}
