// Stages provider lines with COPY … FROM STDIN (postgres.js `.writable()`), streaming: a million-row bill never
// sits in memory. Call inside the run's load transaction: when the source throws at its end (hash mismatch,
// summary mismatch, GCM tag), the transaction rolls back and no line of the file stays staged.
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

/** COPYs the lines into recon_lines; resolves with how many were staged. */
export async function copyLines(
  tx: Tx,
  runId: string,
  lines: AsyncIterable<ReconLine>,
  onProgress?: (staged: number) => void,
): Promise<number> {
  let staged = 0;
  async function* csv(): AsyncGenerator<string> {
    let buffer = '';
    for await (const line of lines) {
      buffer += stagingCsvLine(runId, line);
      staged += 1;
      if (buffer.length >= 65_536) {
        yield buffer;
        buffer = '';
        onProgress?.(staged);
      }
    }
    if (buffer) yield buffer;
  }
  const writable = await tx
    .unsafe(`copy recon_lines (${STAGING_COLUMNS.join(', ')}) from stdin with (format csv)`)
    .writable();
  await pipeline(Readable.from(csv()), writable);
  onProgress?.(staged);
  return staged;
}
