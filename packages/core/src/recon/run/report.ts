// Report files of a run and their atomic publication. Files go under a run-specific prefix
// `<provider>/<account>/<date>/runs/<run id>/` and are made current by replacing one small object,
// `<provider>/<account>/<date>/latest.json`: a single PUT, so readers see the old report or the new one, never a
// mix. CSVs are UTF-8 with a BOM and CRLF so Excel opens Chinese text correctly.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Provider } from '../../ledger/changes.ts';
import { currencyExponent, minorToDecimal } from '../../money.ts';
import type { ObjectStore } from '../../ports.ts';
import { csvField } from '../csv-field.ts';
import { stripeCurrencyExponent } from '../stripe/report-format.ts';
import { BREAK_CLASSES, type ItemClass, type ReconItem, SUGGESTED_ACTIONS } from './types.ts';

export const REPORT_FILES = ['summary.json', 'breaks.csv', 'matched.csv'] as const;
export type ReportFile = (typeof REPORT_FILES)[number];
export const LATEST_POINTER = 'latest.json';
export const UTF8_BOM = '\uFEFF';

/** The path segment of an account: '' (Stripe platform account) is `platform`. */
export function accountSegment(account: string): string {
  return account === '' ? 'platform' : account;
}

export function accountFromSegment(segment: string): string {
  return segment === 'platform' ? '' : segment;
}

export function reportDayPrefix(provider: Provider, account: string, businessDate: string): string {
  return `${provider}/${accountSegment(account)}/${businessDate}/`;
}

export function reportRunPrefix(
  provider: Provider,
  account: string,
  businessDate: string,
  runId: string,
): string {
  return `${reportDayPrefix(provider, account, businessDate)}runs/${runId}/`;
}

/** Where a file that failed verification is kept (never published). */
export function quarantinePrefix(
  provider: Provider,
  account: string,
  businessDate: string,
  runId: string,
): string {
  return `${reportDayPrefix(provider, account, businessDate)}quarantine/${runId}/`;
}

/** latest.json: which run's files are the report of the day. */
export interface ReportPointer {
  provider: Provider;
  account: string;
  businessDate: string;
  runId: string;
  status: 'succeeded';
  publishedAt: string;
  unhealedBreaks: number;
  counts: Record<string, number>;
  files: Record<ReportFile, string>;
}

function exponentOf(provider: Provider, currency: string | null): number {
  if (!currency) return 2;
  return provider === 'stripe' ? stripeCurrencyExponent(currency) : currencyExponent(currency);
}

function amount(provider: Provider, minor: bigint | null, currency: string | null): string {
  return minor === null ? '' : minorToDecimal(minor, exponentOf(provider, currency));
}

function fee(item: ReconItem): string {
  return item.feeScaled === null || item.feeScale === null
    ? ''
    : minorToDecimal(item.feeScaled, item.feeScale);
}

/**
 * Finance opens these files in Excel: a text cell starting with = + - @ (order numbers and descriptions come from
 * payers and merchants) would run as a formula. Such cells get a leading apostrophe; signed amounts stay numbers.
 */
export function spreadsheetSafe(value: string): string {
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csvLine(values: readonly (string | null | undefined)[]): string {
  return `${values.map((value) => csvField(spreadsheetSafe(value ?? ''))).join(',')}\r\n`;
}

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
  'ledger_status',
  'provider_fee',
  'occurred_at_utc',
  'source',
  'line',
  'detail',
  'suggested_action',
  'heal_note',
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

/** Items reported in breaks.csv: every break, healed ones (flagged) and informational ones. */
export function isReportedBreak(item: ReconItem): boolean {
  return item.class !== 'matched' || item.healedFrom !== null;
}

export function breaksCsv(provider: Provider, items: readonly ReconItem[]): string {
  let out = UTF8_BOM + csvLine(BREAKS_COLUMNS);
  for (const item of items) {
    if (!isReportedBreak(item)) continue;
    const healed = item.healedFrom !== null && item.class === 'matched';
    const shownClass: ItemClass = healed ? item.healedFrom! : item.class;
    out += csvLine([
      shownClass,
      healed ? 'true' : 'false',
      item.kind,
      item.providerPaymentId,
      item.providerRefundId,
      item.payoutId,
      item.merchantOrderNo,
      item.merchantRefundNo,
      item.billCurrency,
      amount(provider, item.billAmountMinor, item.billCurrency),
      item.ledgerCurrency,
      amount(provider, item.ledgerAmountMinor, item.ledgerCurrency),
      item.billStatus,
      item.ledgerStatus,
      fee(item),
      item.occurredAt?.toISOString() ?? '',
      item.source,
      item.lineNo === null ? '' : String(item.lineNo),
      item.detail,
      healed ? 'none: healed from the provider query and re-matched' : SUGGESTED_ACTIONS[item.class],
      item.healNote,
    ]);
  }
  return out;
}

function matchedCsvLine(provider: Provider, item: ReconItem): string {
  return csvLine([
    item.kind,
    item.providerPaymentId,
    item.providerRefundId,
    item.payoutId,
    item.merchantOrderNo,
    item.merchantRefundNo,
    item.billCurrency,
    amount(provider, item.billAmountMinor, item.billCurrency),
    item.billStatus,
    fee(item),
    item.occurredAt?.toISOString() ?? '',
    item.source,
    item.lineNo === null ? '' : String(item.lineNo),
    item.healedFrom,
  ]);
}

/** Writes matched.csv to a local file from pages of matched items: memory stays flat for a million-line bill. */
export async function writeMatchedCsv(
  provider: Provider,
  pages: AsyncIterable<readonly ReconItem[]>,
  file: string,
): Promise<void> {
  async function* lines(): AsyncGenerator<string> {
    yield UTF8_BOM + csvLine(MATCHED_COLUMNS);
    for await (const page of pages) yield page.map((item) => matchedCsvLine(provider, item)).join('');
  }
  await pipeline(Readable.from(lines()), createWriteStream(file));
}

/** Counts of breaks: `unhealed` raises the alarm; informational items never do. */
export function breakCounts(items: readonly ReconItem[]): {
  total: number;
  healed: number;
  unhealed: number;
  informational: number;
} {
  let total = 0;
  let healed = 0;
  let informational = 0;
  for (const item of items) {
    if (item.class === 'pending_next_bill') informational += 1;
    else if (item.healedFrom !== null && item.class === 'matched') {
      total += 1;
      healed += 1;
    } else if (BREAK_CLASSES.includes(item.class)) total += 1;
  }
  return { total, healed, unhealed: total - healed, informational };
}

/** One class/currency aggregate of a run's items (computed in SQL). */
export interface ClassTotal {
  cls: string;
  currency: string;
  count: number;
  providerMinor: bigint;
  ledgerMinor: bigint;
}

/** Amount and count per class and currency, for summary.json. */
export function totalsByClass(
  provider: Provider,
  rows: readonly ClassTotal[],
): Record<string, Record<string, unknown>> {
  const shown: Record<string, Record<string, unknown>> = {};
  for (const row of rows) {
    const currency = row.currency === '---' ? null : row.currency;
    shown[row.cls] ??= {};
    shown[row.cls]![row.currency] = {
      count: row.count,
      provider: amount(provider, row.providerMinor, currency),
      ledger: amount(provider, row.ledgerMinor, currency),
    };
  }
  return shown;
}

/** JSON with bigint as decimal strings. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
}

export interface PublishInput {
  store: ObjectStore;
  provider: Provider;
  account: string;
  businessDate: string;
  runId: string;
  summary: unknown;
  /** The items breaks.csv lists (every break, healed or not, and informational ones): few. */
  items: readonly ReconItem[];
  /** All matched items in report order, page by page. */
  matchedPages: AsyncIterable<readonly ReconItem[]>;
  counts: Record<string, number>;
  unhealedBreaks: number;
  now: Date;
  /** Called right before the pointer flips: false when a newer run took the date over (nothing is flipped). */
  stillCurrent?: () => Promise<boolean>;
}

/** Writes the three files under the run prefix, then flips latest.json. Returns the keys written. */
export async function publishReport(
  input: PublishInput,
): Promise<{ pointerKey: string; files: Record<ReportFile, string> } | undefined> {
  const prefix = reportRunPrefix(input.provider, input.account, input.businessDate, input.runId);
  const files = {
    'summary.json': `${prefix}summary.json`,
    'breaks.csv': `${prefix}breaks.csv`,
    'matched.csv': `${prefix}matched.csv`,
  } satisfies Record<ReportFile, string>;
  await input.store.put(files['summary.json'], toJson(input.summary), 'application/json; charset=utf-8');
  await input.store.put(
    files['breaks.csv'],
    breaksCsv(input.provider, input.items),
    'text/csv; charset=utf-8',
  );
  const dir = await mkdtemp(path.join(os.tmpdir(), 'recon-report-'));
  try {
    const matched = path.join(dir, 'matched.csv');
    await writeMatchedCsv(input.provider, input.matchedPages, matched);
    await input.store.putFile(files['matched.csv'], matched, 'text/csv; charset=utf-8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (input.stillCurrent && !(await input.stillCurrent())) return undefined;
  const pointer: ReportPointer = {
    provider: input.provider,
    account: input.account,
    businessDate: input.businessDate,
    runId: input.runId,
    status: 'succeeded',
    publishedAt: input.now.toISOString(),
    unhealedBreaks: input.unhealedBreaks,
    counts: input.counts,
    files,
  };
  const pointerKey = `${reportDayPrefix(input.provider, input.account, input.businessDate)}${LATEST_POINTER}`;
  await input.store.put(pointerKey, toJson(pointer), 'application/json; charset=utf-8');
  return { pointerKey, files };
}

const decoder = new TextDecoder('utf-8');

/** The current reports: every latest.json under `prefix` (e.g. `wechatpay/` or ''). */
export async function listReports(store: ObjectStore, prefix = ''): Promise<ReportPointer[]> {
  const keys = (await store.list(prefix)).filter((key) => key.endsWith(`/${LATEST_POINTER}`));
  const pointers: ReportPointer[] = [];
  for (const key of keys.sort()) {
    const body = await store.get(key);
    if (body) pointers.push(JSON.parse(decoder.decode(body)) as ReportPointer);
  }
  return pointers;
}

const DAY_FILE =
  /^(wechatpay|stripe)\/([^/]+)\/(\d{4}-\d{2}-\d{2})\/(summary\.json|breaks\.csv|matched\.csv)$/;
const RUN_FILE =
  /^(wechatpay|stripe)\/[^/]+\/\d{4}-\d{2}-\d{2}\/runs\/[A-Za-z0-9_-]+\/(summary\.json|breaks\.csv|matched\.csv)$/;

/**
 * Maps a requested key to a stored report file: `<provider>/<account>/<date>/<file>` resolves through latest.json,
 * a run key is taken as is. Anything else (quarantine, traversal, other prefixes) is refused: undefined.
 */
export async function resolveReportKey(store: ObjectStore, key: string): Promise<string | undefined> {
  if (RUN_FILE.test(key)) return (await store.get(key)) === undefined ? undefined : key;
  const day = DAY_FILE.exec(key);
  if (!day) return undefined;
  const [, provider, account, date, file] = day;
  const body = await store.get(`${provider}/${account}/${date}/${LATEST_POINTER}`);
  if (!body) return undefined;
  const pointer = JSON.parse(decoder.decode(body)) as ReportPointer;
  return pointer.files[file as ReportFile];
}
