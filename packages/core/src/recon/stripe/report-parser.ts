// Streaming parser for Stripe report CSVs (balance_change_from_activity.itemized.3, payouts.itemized.3,
// payout_reconciliation.itemized.5):
// csv-parse reads records as the text arrives, columns are mapped by header name (extra columns allowed,
// payment_metadata[key] captured), and major-unit decimals become exact minor units with each row's currency
// exponent (JPY 0, USD 2, KWD 3).
import { pipeline, Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { MoneyError } from '../../errors.ts';
import { normalizeCurrency } from '../../money.ts';
import { parseAmount } from '../decimal-amount.ts';
import { REPORT_FORMAT_CODES, ReportFormatError } from '../errors.ts';
import { decodeText, TextDecodeFailure, type TextSource } from '../utf8-lines.ts';
import { parseUtcTime } from '../wall-clock-time.ts';
import {
  BALANCE_CHANGE_COLUMNS,
  type BalanceChangeColumnKey,
  PAYMENT_METADATA_COLUMN,
  PAYOUT_COLUMNS,
  PAYOUT_RECONCILIATION_COLUMNS,
  type PayoutColumnKey,
  type PayoutReconciliationColumnKey,
  REQUIRED_BALANCE_CHANGE_COLUMNS,
  REQUIRED_PAYOUT_COLUMNS,
  REQUIRED_PAYOUT_RECONCILIATION_COLUMNS,
  STRIPE_REPORT_TYPES,
  type StripeBalanceChangeRow,
  type StripeCurrencyTotals,
  type StripePayoutReconciliationRow,
  type StripePayoutRow,
  type StripeReportSummary,
  type StripeReportType,
  stripeCurrencyExponent,
} from './report-format.ts';

export interface ReportParseOptions {
  /** The report run's `decimal_separator` parameter (default `.`). */
  decimalSeparator?: '.' | ',';
  /** Fail a row whose gross − fee ≠ net (default true: Stripe defines net as gross − fee). */
  checkNet?: boolean;
  /** Largest accepted CSV record in characters (default 1,048,576). */
  maxRecordSize?: number;
}

/** A report being parsed: iterate once, then `summary()` (also the return value of `rows()`). */
export interface ReportParser<Row> extends AsyncIterable<Row> {
  rows(): AsyncGenerator<Row, StripeReportSummary, undefined>;
  summary(): StripeReportSummary;
}

type Layout<K extends string> = Record<K, number>;

/** Reads the typed columns of one record; each error names the line and column. */
class RecordReader<K extends string> {
  record: string[] = [];
  line = 0;
  constructor(
    private readonly layout: Layout<K>,
    private readonly columns: Readonly<Record<K, string>>,
    private readonly decimalSeparator: '.' | ',',
  ) {}

  text(key: K): string {
    const index = this.layout[key];
    return index === -1 ? '' : (this.record[index] ?? '');
  }

  optional(key: K): string | null {
    const value = this.text(key);
    return value.trim() === '' ? null : value;
  }

  required(key: K): string {
    const value = this.text(key);
    if (value.trim() === '') throw this.badValue(key, 'empty');
    return value;
  }

  currency(key: K): string {
    try {
      return normalizeCurrency(this.text(key));
    } catch (error) {
      throw this.badValue(key, 'not an ISO 4217 currency code', error);
    }
  }

  optionalCurrency(key: K): string | null {
    return this.text(key).trim() === '' ? null : this.currency(key);
  }

  amount(key: K, currency: string): bigint {
    try {
      return parseAmount(this.text(key), stripeCurrencyExponent(currency), this.decimalSeparator);
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      throw new ReportFormatError(
        REPORT_FORMAT_CODES.badAmount,
        `bad amount in column "${this.columns[key]}" on line ${this.line} (${currency}): ${error.message}`,
        { line: this.line, column: this.columns[key], cause: error },
      );
    }
  }

  time(key: K): Date {
    const date = parseUtcTime(this.text(key));
    if (date === null) throw this.badValue(key, 'not a UTC time "YYYY-MM-DD HH:mm:ss"');
    return date;
  }

  optionalTime(key: K): Date | null {
    return this.text(key).trim() === '' ? null : this.time(key);
  }

  badValue(key: K, problem: string, cause?: unknown): ReportFormatError {
    return new ReportFormatError(
      REPORT_FORMAT_CODES.badValue,
      `column "${this.columns[key]}" on line ${this.line} is ${problem}`,
      { line: this.line, column: this.columns[key], cause },
    );
  }
}

interface ReportSpec<K extends string, Row> {
  reportType: StripeReportType;
  columns: Readonly<Record<K, string>>;
  required: readonly K[];
  build(
    reader: RecordReader<K>,
    line: number,
    metadata: Record<string, string>,
    extra: Record<string, string>,
  ): Row;
}

interface MoneyRow {
  currency: string;
  grossMinor: bigint;
  feeMinor: bigint;
  netMinor: bigint;
}

function mapCsvError(error: unknown): unknown {
  if (error instanceof ReportFormatError) return error;
  if (error instanceof TextDecodeFailure) {
    return new ReportFormatError(REPORT_FORMAT_CODES.encoding, `report text: ${error.message}`, {
      cause: error,
    });
  }
  if (error instanceof CsvError) {
    const line = (error as unknown as { lines?: number }).lines;
    return new ReportFormatError(REPORT_FORMAT_CODES.csv, `report CSV syntax error (${error.code})`, {
      cause: error,
      ...(typeof line === 'number' ? { line } : {}),
    });
  }
  return error;
}

async function* runReport<K extends string, Row extends MoneyRow>(
  source: TextSource,
  options: ReportParseOptions,
  spec: ReportSpec<K, Row>,
  done: (summary: StripeReportSummary) => void,
): AsyncGenerator<Row, StripeReportSummary, undefined> {
  const parser = parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: options.maxRecordSize ?? 1_048_576,
    info: true,
  });
  pipeline(Readable.from(decodeText(source)), parser, () => {});
  const checkNet = options.checkNet ?? true;
  let header: string[] | undefined;
  let reader: RecordReader<K> | undefined;
  let metadataColumns: Array<[number, string]> = [];
  let extraColumns: Array<[number, string]> = [];
  const totals: Record<string, StripeCurrencyTotals> = {};
  let rowCount = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const { record, info } = item;
      const line = info.lines;
      if (header === undefined) {
        header = record.map((name) => name.trim());
        const layout = {} as Layout<K>;
        const byName = new Map<string, K>();
        for (const key of Object.keys(spec.columns) as K[]) {
          layout[key] = -1;
          byName.set(spec.columns[key], key);
        }
        const seen = new Set<string>();
        header.forEach((name, index) => {
          if (seen.has(name)) {
            throw new ReportFormatError(
              REPORT_FORMAT_CODES.duplicateColumn,
              `report header repeats "${name}"`,
              {
                line,
                column: name,
              },
            );
          }
          seen.add(name);
          const key = byName.get(name);
          const metadataKey = PAYMENT_METADATA_COLUMN.exec(name)?.[1];
          if (key !== undefined) layout[key] = index;
          else if (metadataKey !== undefined) metadataColumns.push([index, metadataKey]);
          else extraColumns.push([index, name]);
        });
        for (const key of spec.required) {
          if (layout[key] === -1) {
            throw new ReportFormatError(
              REPORT_FORMAT_CODES.missingColumn,
              `${spec.reportType} report lacks column "${spec.columns[key]}"; was the report run with a columns ` +
                'parameter that left it out?',
              { line, column: spec.columns[key] },
            );
          }
        }
        reader = new RecordReader(layout, spec.columns, options.decimalSeparator ?? '.');
        continue;
      }
      if (record.length !== header.length) {
        throw new ReportFormatError(
          REPORT_FORMAT_CODES.fieldCount,
          `report record ending on line ${line} has ${record.length} fields, the header has ${header.length}`,
          { line },
        );
      }
      reader!.record = record;
      reader!.line = line;
      const metadata: Record<string, string> = {};
      for (const [index, key] of metadataColumns) {
        const value = record[index] ?? '';
        if (value !== '') metadata[key] = value;
      }
      const extra: Record<string, string> = {};
      for (const [index, name] of extraColumns) {
        const value = record[index] ?? '';
        if (value !== '') extra[name] = value;
      }
      const row = spec.build(reader!, line, metadata, extra);
      if (checkNet && row.grossMinor - row.feeMinor !== row.netMinor) {
        throw new ReportFormatError(
          REPORT_FORMAT_CODES.netMismatch,
          `report row on line ${line}: gross − fee = ${row.grossMinor - row.feeMinor} but net = ${row.netMinor} ` +
            `(${row.currency} minor units)`,
          { line, column: 'net' },
        );
      }
      const t = totals[row.currency] ?? { count: 0, grossMinor: 0n, feeMinor: 0n, netMinor: 0n };
      t.count += 1;
      t.grossMinor += row.grossMinor;
      t.feeMinor += row.feeMinor;
      t.netMinor += row.netMinor;
      totals[row.currency] = t;
      rowCount += 1;
      yield row;
    }
  } catch (error) {
    throw mapCsvError(error);
  } finally {
    metadataColumns = [];
    extraColumns = [];
    parser.destroy();
  }
  if (header === undefined) {
    throw new ReportFormatError(
      REPORT_FORMAT_CODES.headerMissing,
      `the ${spec.reportType} report is empty: no header`,
    );
  }
  const summary: StripeReportSummary = {
    reportType: spec.reportType,
    columns: header,
    rowCount,
    totalsByCurrency: totals,
  };
  done(summary);
  return summary;
}

function makeParser<K extends string, Row extends MoneyRow>(
  source: TextSource,
  options: ReportParseOptions,
  spec: ReportSpec<K, Row>,
): ReportParser<Row> {
  let started = false;
  let result: StripeReportSummary | undefined;
  function rows(): AsyncGenerator<Row, StripeReportSummary, undefined> {
    if (started) {
      throw new ReportFormatError(
        REPORT_FORMAT_CODES.incomplete,
        'the report rows can be iterated only once',
      );
    }
    started = true;
    return runReport(source, options, spec, (summary) => {
      result = summary;
    });
  }
  return {
    rows,
    [Symbol.asyncIterator]: () => rows(),
    summary() {
      if (result === undefined) {
        throw new ReportFormatError(
          REPORT_FORMAT_CODES.incomplete,
          'the report summary is known only after every row was read without error',
        );
      }
      return result;
    },
  };
}

const BALANCE_CHANGE_SPEC: ReportSpec<BalanceChangeColumnKey, StripeBalanceChangeRow> = {
  reportType: STRIPE_REPORT_TYPES.balanceChange,
  columns: BALANCE_CHANGE_COLUMNS,
  required: REQUIRED_BALANCE_CHANGE_COLUMNS,
  build(r, line, metadata, extra) {
    const currency = r.currency('currency');
    const customerFacingCurrency = r.optionalCurrency('customerFacingCurrency');
    const customerFacingAmountMinor =
      customerFacingCurrency !== null && r.optional('customerFacingAmount') !== null
        ? r.amount('customerFacingAmount', customerFacingCurrency)
        : null;
    return {
      line,
      balanceTransactionId: r.required('balanceTransactionId'),
      createdUtc: r.time('createdUtc'),
      availableOnUtc: r.optionalTime('availableOnUtc'),
      currency,
      grossMinor: r.amount('gross', currency),
      feeMinor: r.amount('fee', currency),
      netMinor: r.amount('net', currency),
      reportingCategory: r.required('reportingCategory'),
      sourceId: r.optional('sourceId'),
      description: r.optional('description'),
      customerFacingAmountMinor,
      customerFacingCurrency,
      automaticPayoutId: r.optional('automaticPayoutId'),
      customerId: r.optional('customerId'),
      chargeId: r.optional('chargeId'),
      paymentIntentId: r.optional('paymentIntentId'),
      invoiceId: r.optional('invoiceId'),
      paymentMethodType: r.optional('paymentMethodType'),
      connectedAccountId: r.optional('connectedAccountId'),
      metadata,
      extra,
    };
  },
};

const PAYOUT_SPEC: ReportSpec<PayoutColumnKey, StripePayoutRow> = {
  reportType: STRIPE_REPORT_TYPES.payouts,
  columns: PAYOUT_COLUMNS,
  required: REQUIRED_PAYOUT_COLUMNS,
  build(r, line, metadata, extra) {
    const currency = r.currency('currency');
    return {
      line,
      payoutId: r.required('payoutId'),
      effectiveAtUtc: r.time('effectiveAtUtc'),
      currency,
      grossMinor: r.amount('gross', currency),
      feeMinor: r.amount('fee', currency),
      netMinor: r.amount('net', currency),
      reportingCategory: r.optional('reportingCategory'),
      description: r.optional('description'),
      expectedArrivalDate: r.optional('expectedArrivalDate'),
      status: r.optional('status'),
      reversedAtUtc: r.optionalTime('reversedAtUtc'),
      type: r.optional('type'),
      payoutDescription: r.optional('payoutDescription'),
      destinationId: r.optional('destinationId'),
      balanceTransactionId: r.optional('balanceTransactionId'),
      metadata,
      extra,
    };
  },
};

const PAYOUT_RECONCILIATION_SPEC: ReportSpec<PayoutReconciliationColumnKey, StripePayoutReconciliationRow> = {
  reportType: STRIPE_REPORT_TYPES.payoutReconciliation,
  columns: PAYOUT_RECONCILIATION_COLUMNS,
  required: REQUIRED_PAYOUT_RECONCILIATION_COLUMNS,
  build(r, line, metadata, extra) {
    const currency = r.currency('currency');
    return {
      line,
      automaticPayoutId: r.required('automaticPayoutId'),
      automaticPayoutEffectiveAtUtc: r.optionalTime('automaticPayoutEffectiveAtUtc'),
      balanceTransactionId: r.required('balanceTransactionId'),
      createdUtc: r.time('createdUtc'),
      availableOnUtc: r.optionalTime('availableOnUtc'),
      currency,
      grossMinor: r.amount('gross', currency),
      feeMinor: r.amount('fee', currency),
      netMinor: r.amount('net', currency),
      reportingCategory: r.required('reportingCategory'),
      sourceId: r.optional('sourceId'),
      description: r.optional('description'),
      customerId: r.optional('customerId'),
      chargeId: r.optional('chargeId'),
      paymentIntentId: r.optional('paymentIntentId'),
      connectedAccountId: r.optional('connectedAccountId'),
      metadata,
      extra,
    };
  },
};

/** Parses a `balance_change_from_activity.itemized.3` report. */
export function parseBalanceChangeReport(
  source: TextSource,
  options: ReportParseOptions = {},
): ReportParser<StripeBalanceChangeRow> {
  return makeParser(source, options, BALANCE_CHANGE_SPEC);
}

/** Parses a `payouts.itemized.3` report. */
export function parsePayoutsReport(
  source: TextSource,
  options: ReportParseOptions = {},
): ReportParser<StripePayoutRow> {
  return makeParser(source, options, PAYOUT_SPEC);
}

/** Parses a `payout_reconciliation.itemized.5` report (or its connected-account twin: same columns). */
export function parsePayoutReconciliationReport(
  source: TextSource,
  options: ReportParseOptions = {},
): ReportParser<StripePayoutReconciliationRow> {
  return makeParser(source, options, PAYOUT_RECONCILIATION_SPEC);
}
