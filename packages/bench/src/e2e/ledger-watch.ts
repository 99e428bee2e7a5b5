// Watches payhooks' ledger during case 7: every ~20 ms it reads the inbox rows committed since the last polls and
// stamps each newly seen event id with PostgreSQL's clock_timestamp() of that read (an upper bound of its commit:
// a row is visible only once committed before the read's snapshot). Identity values are taken at insert, so a
// row can commit after a higher id; the read therefore re-covers the ids seen in the last RECHECK_MS, and a
// count(*) every second catches any row that committed later still (stamped then, counted in `lateStamped`).
import type { Sql } from '@payhooks/core/ledger';

const POLL_MS = 20;
const RECHECK_MS = 500;
const COUNT_EVERY_MS = 1000;

export interface LedgerWatchResult {
  /** event id → epoch ms at which it was first seen committed. */
  committedMs: Map<string, number>;
  /** Epoch ms of the read that saw the last expected event. */
  lastCommitMs: number;
  polls: number;
  lateStamped: number;
  /** Expected events still not in the ledger when the watch gave up (nothing new for `stallMs`). */
  missing: number;
}

export async function maxInboxId(sql: Sql): Promise<number> {
  const [row] = await sql<{ max: string | null }[]>`select max(id)::text as max from inbox_events`;
  return Number(row?.max ?? 0);
}

/**
 * Resolves when every id in `expected` is in inbox_events — or, once `canStall()` says nothing more is coming (the
 * load finished), when no new row appeared for `stallMs` (messages the consumer gave up on sit in the DLQ and
 * never commit; they are reported as `missing`). Throws after `timeoutMs`.
 */
export async function watchLedger(
  sql: Sql,
  expected: ReadonlySet<string>,
  options: { afterId: number; timeoutMs: number; stallMs?: number; canStall?: () => boolean },
): Promise<LedgerWatchResult> {
  let lastGrowth = performance.now();
  const committedMs = new Map<string, number>();
  const history: { at: number; maxId: number }[] = [];
  let floor = options.afterId;
  let maxSeen = options.afterId;
  let lastCommitMs = 0;
  let polls = 0;
  let lateStamped = 0;
  let lastCount = performance.now();
  const stampedIds: number[] = [];
  const deadline = performance.now() + options.timeoutMs;
  const take = (rows: readonly { id: string; event_id: string; seen_ms: number }[]) => {
    for (const row of rows) {
      maxSeen = Math.max(maxSeen, Number(row.id));
      if (!expected.has(row.event_id) || committedMs.has(row.event_id)) continue;
      committedMs.set(row.event_id, row.seen_ms);
      lastGrowth = performance.now();
      stampedIds.push(Number(row.id));
      lastCommitMs = Math.max(lastCommitMs, row.seen_ms);
    }
  };
  while (committedMs.size < expected.size) {
    if (performance.now() > deadline) {
      throw new Error(
        `ledger watch timed out: ${committedMs.size} of ${expected.size} events committed after ${options.timeoutMs} ms`,
      );
    }
    if (
      options.stallMs !== undefined &&
      options.canStall?.() &&
      performance.now() - lastGrowth > options.stallMs
    )
      break;
    polls += 1;
    const at = performance.now();
    take(
      await sql<{ id: string; event_id: string; seen_ms: number }[]>`
        select id::text as id, event_id, (extract(epoch from clock_timestamp()) * 1000)::float8 as seen_ms
        from inbox_events where id > ${floor}`,
    );
    history.push({ at, maxId: maxSeen });
    while (history.length > 1 && history[1]!.at < at - RECHECK_MS) history.shift();
    if (history[0]!.at < at - RECHECK_MS) floor = Math.max(floor, history[0]!.maxId);
    if (committedMs.size < expected.size && at - lastCount > COUNT_EVERY_MS) {
      lastCount = at;
      const before = committedMs.size;
      // Below the floor every committed row should have been seen; more rows there than stamps: a late commit.
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from inbox_events where id > ${options.afterId} and id <= ${floor}`;
      const stampedBelow = stampedIds.filter((id) => id <= floor).length;
      if ((row?.n ?? 0) > stampedBelow) {
        take(
          await sql<{ id: string; event_id: string; seen_ms: number }[]>`
            select id::text as id, event_id, (extract(epoch from clock_timestamp()) * 1000)::float8 as seen_ms
            from inbox_events where id > ${options.afterId}`,
        );
        lateStamped += committedMs.size - before;
      }
    }
    if (committedMs.size < expected.size) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return { committedMs, lastCommitMs, polls, lateStamped, missing: expected.size - committedMs.size };
}
