// The report CSVs finance opens in Excel: breaks.csv (every break, healed ones flagged, informational ones) and
// matched.csv (streamed page by page, so memory stays flat for a million-line bill). UTF-8 with a BOM and CRLF, so
// Excel reads Chinese text correctly; quoting by csv-record.ts (RFC 4180, plus fields with edge whitespace), and
// every text cell passes the spreadsheet-formula guard first.
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Provider } from '../../ledger/changes.ts';
import type { BreakRef } from '../breaks/types.ts';
import { csvRecord } from './csv-record.ts';
import { amountText, feeText } from './report-amounts.ts';
import { type ItemClass, type ReconItem, SUGGESTED_ACTIONS } from './types.ts';

export const UTF8_BOM = '\uFEFF';

export const BREAKS_COLUMNS = [
  'class',
  'healed',
  'kind',
  'provider_payment_id',
  'provider_refund_id',
  'payout_id',
  'merchant_order_no',
  'merchant_refund_no',
  'provider_currency',
  'provider_amount',
  'ledger_currency',
  'ledger_amount',
  'provider_status',
  'provider_status_raw',
  'ledger_status',
  'provider_fee',
  'occurred_at_utc',
  'source',
  'line',
  'detail',
  'suggested_action',
  'heal_note',
  // The break's identity across runs (docs/reconciliation.md "Break lifecycle"); empty for informational rows.
  'break_id',
  'age_days',
  'break_state',
] as const;

export const MATCHED_COLUMNS = [
  'kind',
  'provider_payment_id',
  'provider_refund_id',
  'payout_id',
  'merchant_order_no',
  'merchant_refund_no',
  'currency',
  'amount',
  'status',
  'provider_fee',
  'occurred_at_utc',
  'source',
  'line',
  'healed_from',
] as const;

/**
 * Finance opens these files in Excel: a text cell starting with = + - @ (order numbers and descriptions come from
 * payers and merchants) would run as a formula. Such cells get a leading apostrophe; signed amounts stay numbers.
 */
export function spreadsheetSafe(value: string): string {
  // First character first: almost no cell starts with one of these, and this runs for every cell of matched.csv.
  const first = value.charCodeAt(0);
  if (first !== 61 && first !== 43 && first !== 45 && first !== 64 && first !== 9 && first !== 13)
    return value;
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  return `'${value}`;
}

type Cells = readonly (string | null | undefined)[];

/** CSV records (CRLF after each), every cell through the formula guard; null and undefined are empty cells. */
export function csvRecords(rows: readonly Cells[]): string {
  let out = '';
  for (const row of rows) out += csvRecord(row.map((value) => spreadsheetSafe(value ?? '')));
  return out;
}

/** Items reported in breaks.csv: every break, healed ones (flagged) and informational ones. */
export function isReportedBreak(item: ReconItem): boolean {
  return item.class !== 'matched' || item.healedFrom !== null;
}

/** The break register's id, age and state of an item (none for informational items). */
export type BreakRefLookup = (item: ReconItem) => BreakRef | undefined;

function breaksRow(provider: Provider, item: ReconItem, refOf?: BreakRefLookup): Cells {
  const ref = refOf?.(item);
  const healed = item.healedFrom !== null && item.class === 'matched';
  const shownClass: ItemClass = healed ? item.healedFrom! : item.class;
  return [
    shownClass,
    healed ? 'true' : 'false',
    item.kind,
    item.providerPaymentId,
    item.providerRefundId,
    item.payoutId,
    item.merchantOrderNo,
    item.merchantRefundNo,
    item.billCurrency,
    amountText(provider, item.billAmountMinor, item.billCurrency),
    item.ledgerCurrency,
    amountText(provider, item.ledgerAmountMinor, item.ledgerCurrency),
    item.billStatus,
    item.billProviderStatus,
    item.ledgerStatus,
    feeText(item),
    item.occurredAt?.toISOString() ?? '',
    item.source,
    item.lineNo === null ? '' : String(item.lineNo),
    item.detail,
    healed ? 'none: healed from the provider query and re-matched' : SUGGESTED_ACTIONS[item.class],
    item.healNote,
    ref?.breakId.toString(),
    ref === undefined ? '' : String(ref.ageDays),
    ref?.state,
  ];
}

export function breaksCsv(provider: Provider, items: readonly ReconItem[], refOf?: BreakRefLookup): string {
  const rows: Cells[] = [BREAKS_COLUMNS];
  for (const item of items) if (isReportedBreak(item)) rows.push(breaksRow(provider, item, refOf));
  return UTF8_BOM + csvRecords(rows);
}

function matchedRow(provider: Provider, item: ReconItem): Cells {
  return [
    item.kind,
    item.providerPaymentId,
    item.providerRefundId,
    item.payoutId,
    item.merchantOrderNo,
    item.merchantRefundNo,
    item.billCurrency,
    amountText(provider, item.billAmountMinor, item.billCurrency),
    item.billStatus,
    feeText(item),
    item.occurredAt?.toISOString() ?? '',
    item.source,
    item.lineNo === null ? '' : String(item.lineNo),
    item.healedFrom,
  ];
}

/** Writes matched.csv to a local file from pages of matched items: memory stays flat for a million-line bill. */
export async function writeMatchedCsv(
  provider: Provider,
  pages: AsyncIterable<readonly ReconItem[]>,
  file: string,
): Promise<void> {
  async function* chunks(): AsyncGenerator<string> {
    yield UTF8_BOM + csvRecords([MATCHED_COLUMNS]);
    for await (const page of pages) yield csvRecords(page.map((item) => matchedRow(provider, item)));
  }
  await pipeline(Readable.from(chunks()), createWriteStream(file));
}
