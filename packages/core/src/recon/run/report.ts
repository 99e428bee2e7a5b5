// Report files of a run and their atomic publication. Files go under a run-specific prefix
// `<provider>/<account>/<date>/runs/<run id>/` and are made current by replacing one small object,
// `<provider>/<account>/<date>/latest.json`: a single PUT, so readers see the old report or the new one, never a
// mix. The CSVs themselves are written by report-csv.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Provider } from '../../ledger/changes.ts';
import type { ObjectStore } from '../../ports.ts';
import { amountText } from './report-amounts.ts';
import { type BreakRefLookup, breaksCsv } from './report-csv.ts';
import { BREAK_CLASSES, type ReconItem } from './types.ts';

// The CSV writers' names, kept importable from here.
export {
  BREAKS_COLUMNS,
  type BreakRefLookup,
  breaksCsv,
  isReportedBreak,
  MATCHED_COLUMNS,
  spreadsheetSafe,
  UTF8_BOM,
  writeMatchedCsv,
} from './report-csv.ts';

export const REPORT_FILES = ['summary.json', 'breaks.csv', 'matched.csv'] as const;
export type ReportFile = (typeof REPORT_FILES)[number];
export const LATEST_POINTER = 'latest.json';

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
    if (item.class === 'pending_next_bill' || item.class === 'pending') informational += 1;
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
      provider: amountText(provider, row.providerMinor, currency),
      ledger: amountText(provider, row.ledgerMinor, currency),
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
  /** Writes matched.csv (every matched line in report order) to a local file. */
  writeMatched: (file: string) => Promise<void>;
  counts: Record<string, number>;
  unhealedBreaks: number;
  now: Date;
  /** The break register's id, age and state per item, for breaks.csv. */
  breakRefs?: BreakRefLookup;
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
    breaksCsv(input.provider, input.items, input.breakRefs),
    'text/csv; charset=utf-8',
  );
  const dir = await mkdtemp(path.join(os.tmpdir(), 'recon-report-'));
  try {
    const matched = path.join(dir, 'matched.csv');
    await input.writeMatched(matched);
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
