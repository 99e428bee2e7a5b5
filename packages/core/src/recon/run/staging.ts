// Stages provider lines with COPY … FROM STDIN (postgres.js `.writable()`), streaming: a million-row bill never
// sits in memory. reconcile() spools each file to disk first (where a hash, summary or GCM-tag failure at the end
// of the file stops the run before anything is staged) and then COPYs the spools in one transaction.
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Tx } from '../../ledger/db.ts';
import type { ReconLine, StagedChunk } from './types.ts';

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

async function* stagingRecordsOf(runId: string, lines: AsyncIterable<ReconLine>): AsyncGenerator<string> {
  for await (const line of lines) yield stagingCsvLine(runId, line);
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
  return spoolRecords(stagingRecordsOf(runId, lines), file, onProgress);
}

/**
 * Staging records joined into chunks of ≈ 256 KiB (one write or CopyData each, not one per record); `tally.staged`
 * holds the records so far, and `onProgress` hears it after each chunk and at the end.
 */
function chunked(records: AsyncIterable<string>, onProgress?: (staged: number) => void) {
  const tally = { staged: 0 };
  async function* chunks(): AsyncGenerator<string> {
    let buffer = '';
    for await (const record of records) {
      buffer += record;
      tally.staged += 1;
      if (buffer.length >= 262_144) {
        yield buffer;
        buffer = '';
        onProgress?.(tally.staged);
      }
    }
    if (buffer) yield buffer;
    onProgress?.(tally.staged);
  }
  return { chunks: Readable.from(chunks()), tally };
}

/** spoolLines for a file that writes its own staging records (SourceFile.stagingRecords). */
export async function spoolRecords(
  records: AsyncIterable<string>,
  file: string,
  onProgress?: (staged: number) => void,
): Promise<number> {
  const { chunks, tally } = chunked(records, onProgress);
  await pipeline(chunks, createWriteStream(file));
  return tally.staged;
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
  const { chunks, tally } = chunked(records, onProgress);
  await copyFrom(tx, chunks);
  return tally.staged;
}

/** Staging records that come already encoded in chunks (SourceFile.stagedChunks), counted as they pass. */
function counted(staged: AsyncIterable<StagedChunk>, onProgress?: (staged: number) => void) {
  const tally = { staged: 0 };
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for await (const chunk of staged) {
      tally.staged += chunk.records;
      yield chunk.bytes;
      onProgress?.(tally.staged);
    }
    onProgress?.(tally.staged);
  }
  return { chunks: Readable.from(chunks()), tally };
}

/** spoolRecords for a file that writes its records as byte chunks. */
export async function spoolChunks(
  staged: AsyncIterable<StagedChunk>,
  file: string,
  onProgress?: (staged: number) => void,
): Promise<number> {
  const { chunks, tally } = counted(staged, onProgress);
  await pipeline(chunks, createWriteStream(file));
  return tally.staged;
}

/** copyRecords for a file that writes its records as byte chunks. */
export async function copyChunks(
  tx: Tx,
  staged: AsyncIterable<StagedChunk>,
  onProgress?: (staged: number) => void,
): Promise<number> {
  const { chunks, tally } = counted(staged, onProgress);
  await copyFrom(tx, chunks);
  return tally.staged;
}

/** COPYs a file written by spoolLines into recon_lines. */
export async function copySpooled(tx: Tx, file: string): Promise<void> {
  await copyFrom(tx, createReadStream(file));
}
