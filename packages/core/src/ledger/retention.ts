// raw_payload retention: the raw bodies (design rule 4's evidence) are kept for a configurable number of days,
// then nulled by a scheduled purge. Ledger rows are never deleted: the inbox row stays for deduplication (a
// provider retry of a purged event is still a duplicate) and every projection row is untouched. The purge works
// in bounded batches (short row locks, SKIP LOCKED so it never waits on the consumer) without session state.
import type { Sql } from './db.ts';
import { LedgerError } from './status.ts';

export interface PurgeRawPayloadsOptions {
  retentionDays: number;
  now: Date;
  /** Rows per statement (default 5000). */
  batchSize?: number;
  /** Stop after this many batches (a Lambda timeout bound); the next run continues. Default unbounded. */
  maxBatches?: number;
}

export interface PurgeRawPayloadsResult {
  purged: number;
  cutoff: Date;
  /** False when maxBatches stopped the run with rows left to purge. */
  complete: boolean;
}

const DAY_MS = 86_400_000;

export async function purgeRawPayloads(
  sql: Sql,
  options: PurgeRawPayloadsOptions,
): Promise<PurgeRawPayloadsResult> {
  const { retentionDays, now } = options;
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new LedgerError(
      'RETENTION_INVALID',
      `raw payload retention must be a whole number of days ≥ 1, got ${retentionDays}`,
    );
  }
  const batchSize = options.batchSize ?? 5000;
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  let purged = 0;
  for (let batch = 0; options.maxBatches === undefined || batch < options.maxBatches; batch += 1) {
    const rows = await sql`
      update inbox_events set raw_payload = null, raw_payload_purged_at = ${now}
      where (provider, event_id) in (
        select provider, event_id from inbox_events
        where raw_payload is not null and received_at < ${cutoff}
        limit ${batchSize}
        for update skip locked
      )`;
    purged += rows.count;
    if (rows.count < batchSize) return { purged, cutoff, complete: true };
  }
  return { purged, cutoff, complete: false };
}
