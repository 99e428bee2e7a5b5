// Writes Stripe report CSVs (RFC 4180 quoting, major-unit amounts, lower-case currencies, UTC times) from rows,
// streaming — for the local sandbox, which serves report files built from its own traffic, and for tests.
import { minorToDecimal } from '@payhooks/core/money';
import {
  BALANCE_CHANGE_COLUMNS,
  csvField,
  formatUtcTime,
  PAYOUT_COLUMNS,
  PAYOUT_RECONCILIATION_COLUMNS,
  REPORT_FORMAT_CODES,
  ReportFormatError,
  type StripeBalanceChangeRecord,
  type StripePayoutReconciliationRecord,
  type StripePayoutRecord,
  stripeCurrencyExponent,
} from '@payhooks/core/recon';

export interface ReportWriteOptions {
  /** Keys written as `payment_metadata[key]` columns, in this order. */
  metadataKeys?: readonly string[];
  /** Other columns written from each record's `extra`, by CSV name. */
  extraColumns?: readonly string[];
  /** Characters per yielded chunk (default 65,536). */
  chunkSize?: number;
}

type RecordSource<T> = AsyncIterable<T> | Iterable<T>;

const amount = (minor: bigint | null, currency: string | null) =>
  minor === null || currency === null ? '' : minorToDecimal(minor, stripeCurrencyExponent(currency));
const time = (date: Date | null) => (date === null ? '' : formatUtcTime(date));
const currencyText = (currency: string | null) => (currency === null ? '' : currency.toLowerCase());

async function* writeCsv<T extends { metadata: Record<string, string>; extra: Record<string, string> }>(
  records: RecordSource<T>,
  fixed: ReadonlyArray<[string, (record: T) => string]>,
  options: ReportWriteOptions,
): AsyncGenerator<string, void, undefined> {
  const metadataKeys = options.metadataKeys ?? [];
  const extraColumns = options.extraColumns ?? [];
  const chunkSize = options.chunkSize ?? 65_536;
  const header = [
    ...fixed.map(([name]) => name),
    ...metadataKeys.map((key) => `payment_metadata[${key}]`),
    ...extraColumns,
  ];
  let buffer = `${header.map(csvField).join(',')}\n`;
  let index = 0;
  for await (const record of records) {
    for (const key of Object.keys(record.metadata)) {
      if (!metadataKeys.includes(key)) {
        throw new ReportFormatError(
          REPORT_FORMAT_CODES.unencodable,
          `record ${index} has metadata key "${key}" that is not among metadataKeys`,
          { column: `payment_metadata[${key}]` },
        );
      }
    }
    const values = [
      ...fixed.map(([, get]) => get(record)),
      ...metadataKeys.map((key) => record.metadata[key] ?? ''),
      ...extraColumns.map((name) => record.extra[name] ?? ''),
    ];
    buffer += `${values.map(csvField).join(',')}\n`;
    index += 1;
    if (buffer.length >= chunkSize) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer.length > 0) yield buffer;
}

const B = BALANCE_CHANGE_COLUMNS;
const BALANCE_CHANGE_FIELDS: ReadonlyArray<[string, (r: StripeBalanceChangeRecord) => string]> = [
  [B.balanceTransactionId, (r) => r.balanceTransactionId],
  [B.createdUtc, (r) => time(r.createdUtc)],
  [B.availableOnUtc, (r) => time(r.availableOnUtc)],
  [B.currency, (r) => currencyText(r.currency)],
  [B.gross, (r) => amount(r.grossMinor, r.currency)],
  [B.fee, (r) => amount(r.feeMinor, r.currency)],
  [B.net, (r) => amount(r.netMinor, r.currency)],
  [B.reportingCategory, (r) => r.reportingCategory],
  [B.sourceId, (r) => r.sourceId ?? ''],
  [B.description, (r) => r.description ?? ''],
  [B.customerFacingAmount, (r) => amount(r.customerFacingAmountMinor, r.customerFacingCurrency)],
  [B.customerFacingCurrency, (r) => currencyText(r.customerFacingCurrency)],
  [B.automaticPayoutId, (r) => r.automaticPayoutId ?? ''],
  [B.customerId, (r) => r.customerId ?? ''],
  [B.chargeId, (r) => r.chargeId ?? ''],
  [B.paymentIntentId, (r) => r.paymentIntentId ?? ''],
  [B.invoiceId, (r) => r.invoiceId ?? ''],
  [B.paymentMethodType, (r) => r.paymentMethodType ?? ''],
  [B.connectedAccountId, (r) => r.connectedAccountId ?? ''],
];

const P = PAYOUT_COLUMNS;
const PAYOUT_FIELDS: ReadonlyArray<[string, (r: StripePayoutRecord) => string]> = [
  [P.payoutId, (r) => r.payoutId],
  [P.effectiveAtUtc, (r) => time(r.effectiveAtUtc)],
  [P.currency, (r) => currencyText(r.currency)],
  [P.gross, (r) => amount(r.grossMinor, r.currency)],
  [P.fee, (r) => amount(r.feeMinor, r.currency)],
  [P.net, (r) => amount(r.netMinor, r.currency)],
  [P.reportingCategory, (r) => r.reportingCategory ?? ''],
  [P.description, (r) => r.description ?? ''],
  [P.expectedArrivalDate, (r) => r.expectedArrivalDate ?? ''],
  [P.status, (r) => r.status ?? ''],
  [P.reversedAtUtc, (r) => time(r.reversedAtUtc)],
  [P.type, (r) => r.type ?? ''],
  [P.payoutDescription, (r) => r.payoutDescription ?? ''],
  [P.destinationId, (r) => r.destinationId ?? ''],
  [P.balanceTransactionId, (r) => r.balanceTransactionId ?? ''],
];

const R = PAYOUT_RECONCILIATION_COLUMNS;
// Stripe's column order: the payout first, then the balance transaction.
const PAYOUT_RECONCILIATION_FIELDS: ReadonlyArray<[string, (r: StripePayoutReconciliationRecord) => string]> =
  [
    [R.automaticPayoutId, (r) => r.automaticPayoutId],
    [R.automaticPayoutEffectiveAtUtc, (r) => time(r.automaticPayoutEffectiveAtUtc)],
    [R.balanceTransactionId, (r) => r.balanceTransactionId],
    [R.createdUtc, (r) => time(r.createdUtc)],
    [R.availableOnUtc, (r) => time(r.availableOnUtc)],
    [R.currency, (r) => currencyText(r.currency)],
    [R.gross, (r) => amount(r.grossMinor, r.currency)],
    [R.fee, (r) => amount(r.feeMinor, r.currency)],
    [R.net, (r) => amount(r.netMinor, r.currency)],
    [R.reportingCategory, (r) => r.reportingCategory],
    [R.sourceId, (r) => r.sourceId ?? ''],
    [R.description, (r) => r.description ?? ''],
    [R.customerId, (r) => r.customerId ?? ''],
    [R.chargeId, (r) => r.chargeId ?? ''],
    [R.paymentIntentId, (r) => r.paymentIntentId ?? ''],
    [R.connectedAccountId, (r) => r.connectedAccountId ?? ''],
  ];

/** Streams a `payout_reconciliation.itemized.5` CSV. */
export function writePayoutReconciliationReport(
  records: RecordSource<StripePayoutReconciliationRecord>,
  options: ReportWriteOptions = {},
): AsyncGenerator<string, void, undefined> {
  return writeCsv(records, PAYOUT_RECONCILIATION_FIELDS, options);
}

/** A balance transaction as the payout reconciliation report of its payout lists it. */
export function payoutReconciliationRecord(
  transaction: StripeBalanceChangeRecord & { automaticPayoutId: string },
  payoutEffectiveAt: Date | null,
): StripePayoutReconciliationRecord {
  return {
    automaticPayoutId: transaction.automaticPayoutId,
    automaticPayoutEffectiveAtUtc: payoutEffectiveAt,
    balanceTransactionId: transaction.balanceTransactionId,
    createdUtc: transaction.createdUtc,
    availableOnUtc: transaction.availableOnUtc,
    currency: transaction.currency,
    grossMinor: transaction.grossMinor,
    feeMinor: transaction.feeMinor,
    netMinor: transaction.netMinor,
    reportingCategory: transaction.reportingCategory,
    sourceId: transaction.sourceId,
    description: transaction.description,
    customerId: transaction.customerId,
    chargeId: transaction.chargeId,
    paymentIntentId: transaction.paymentIntentId,
    connectedAccountId: transaction.connectedAccountId,
    metadata: {},
    extra: {},
  };
}

/** Streams a `balance_change_from_activity.itemized.3` CSV. */
export function writeBalanceChangeReport(
  records: RecordSource<StripeBalanceChangeRecord>,
  options: ReportWriteOptions = {},
): AsyncGenerator<string, void, undefined> {
  return writeCsv(records, BALANCE_CHANGE_FIELDS, options);
}

/** Streams a `payouts.itemized.3` CSV. */
export function writePayoutsReport(
  records: RecordSource<StripePayoutRecord>,
  options: ReportWriteOptions = {},
): AsyncGenerator<string, void, undefined> {
  return writeCsv(records, PAYOUT_FIELDS, options);
}
