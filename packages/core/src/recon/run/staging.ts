// Stages provider lines with COPY … FROM STDIN (postgres.js `.writable()`), streaming: a million-row bill never
// sits in memory. reconcile() spools each file to disk first (where a hash, summary or GCM-tag failure at the end
// of the file stops the run before anything is staged) and then COPYs the spools in one transaction.
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Tx } from '../../ledger/db.ts';
import type { ReconLine } from './types.ts';

export const STAGING_COLUMNS = [
  'run_id',
  'source',
  'line_no',
  'kind',
  'sub_account',
  'provider_payment_id',
  'provider_refund_id',
  'merchant_order_no',
  'merchant_refund_no',
  'reference',
  'payout_id',
  'amount_minor',
  'fee_scaled',
  'fee_scale',
  'currency',
  'status',
  'provider_status',
  'occurred_at',
] as const;

/** CSV field for COPY (format csv): NULL is an unquoted empty field, every text is quoted. */
function field(value: string | number | bigint | Date | null): string {
  if (value === null) return '';
  if (typeof value === 'bigint' || typeof value === 'number') return value.toString();
  if (value instanceof Date) return value.toISOString();
  return `"${value.replaceAll('"', '""')}"`;
}

export function stagingCsvLine(runId: string, line: ReconLine): string {
  return `${[
    runId,
    line.source,
    line.lineNo,
    line.kind,
    line.subAccount,
    line.providerPaymentId,
    line.providerRefundId,
    line.merchantOrderNo,
    line.merchantRefundNo,
    line.reference,
    line.payoutId,
    line.amountMinor,
    line.feeScaled,
    line.feeScale,
    line.currency,
    line.status,
    line.providerStatus,
    line.occurredAt,
  ]
    .map(field)
    .join(',')}\n`;
}

async function* stagingCsv(
  runId: string,
  lines: AsyncIterable<ReconLine>,
  count: (staged: number) => void,
): AsyncGenerator<string> {
  let buffer = '';
  let staged = 0;
  for await (const line of lines) {
    buffer += stagingCsvLine(runId, line);
    staged += 1;
    if (buffer.length >= 65_536) {
      yield buffer;
      buffer = '';
      count(staged);
    }
  }
  if (buffer) yield buffer;
  count(staged);
}

async function copyFrom(tx: Tx, source: Readable): Promise<void> {
  const writable = await tx
    .unsafe(`copy recon_lines (${STAGING_COLUMNS.join(', ')}) from stdin with (format csv)`)
    .writable();
  await pipeline(source, writable);
}

/**
 * Writes the staging rows to a local file first (download, verification and parsing happen here, with no
 * transaction open), so the COPY transaction later holds its connection only for the load itself.
 */
export async function spoolLines(
  runId: string,
  lines: AsyncIterable<ReconLine>,
  file: string,
  onProgress?: (staged: number) => void,
): Promise<number> {
  let staged = 0;
  await pipeline(
    Readable.from(
      stagingCsv(runId, lines, (n) => {
        staged = n;
        onProgress?.(n);
      }),
    ),
    createWriteStream(file),
  );
  return staged;
}

/**
 * Staging records joined into chunks of ≈ 256 KiB (one write or CopyData each, not one per record); `counted`
 * hears the number of records so far after each chunk and at the end.
 */
async function* recordChunks(
  records: AsyncIterable<string>,
  counted: (staged: number) => void,
): AsyncGenerator<string> {
  let staged = 0;
  let buffer = '';
  for await (const record of records) {
    buffer += record;
    staged += 1;
    if (buffer.length >= 262_144) {
      yield buffer;
      buffer = '';
      counted(staged);
    }
  }
  if (buffer) yield buffer;
  counted(staged);
}

/** spoolLines for a file that writes its own staging records (SourceFile.stagingRecords). */
export async function spoolRecords(
  records: AsyncIterable<string>,
  file: string,
  onProgress?: (staged: number) => void,
): Promise<number> {
  let staged = 0;
  const counted = (n: number) => {
    staged = n;
    onProgress?.(n);
  };
  await pipeline(Readable.from(recordChunks(records, counted)), createWriteStream(file));
  return staged;
}

/**
 * COPYs staging records straight into recon_lines inside the load transaction (a file whose reading waits on
 * nothing but the disk and the CPU, SourceFile.prepare): the parse runs here while PostgreSQL loads the previous
 * batch, on the other core. A parse or verification error ends the COPY with that error; the caller's transaction
 * rolls back.
 */
export async function copyRecords(
  tx: Tx,
  records: AsyncIterable<string>,
  onProgress?: (staged: number) => void,
): Promise<number> {
  let staged = 0;
  const counted = (n: number) => {
    staged = n;
    onProgress?.(n);
  };
  await copyFrom(tx, Readable.from(recordChunks(records, counted)));
  return staged;
}

/** COPYs a file written by spoolLines into recon_lines. */
export async function copySpooled(tx: Tx, file: string): Promise<void> {
  await copyFrom(tx, createReadStream(file));
}
