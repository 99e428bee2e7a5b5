// Ties the version rule cannot break (see status.ts isTie): recorded by the consumer in object_revalidations,
// claimed by a provider's revalidator, which sends the object as the provider holds it through the queue.
// Rate limited per object (a cooldown after each revalidation) and per run (a claim limit).
import type { Provider } from './changes.ts';
import type { Sql } from './db.ts';

export interface ObjectTie {
  provider: Provider;
  account: string;
  objectType: string;
  objectId: string;
  /** The two events whose snapshots could not be ordered. */
  eventIds: readonly [string, string];
}

export interface DueRevalidation {
  provider: Provider;
  account: string;
  objectType: string;
  objectId: string;
  attempts: number;
}

/** After a revalidation, the same object is not asked for again before this long (new ties wait). */
export const REVALIDATION_COOLDOWN_SECONDS = 600;

/**
 * The statement that records the ties of relation `ties` (provider, object_type, object_id, account, first_event,
 * second_event), one row per object; a known object counts one more tie and is pending again — after a
 * revalidation, not before the cooldown. Part of the mirror upsert's statement (projections.ts).
 */
export function recordTiesStatement(ties: string): string {
  return `insert into object_revalidations (provider, object_type, object_id, account, tied_event_ids)
    select distinct on (provider, object_type, object_id)
      provider, object_type, object_id, account, array[first_event, second_event]
    from ${ties} order by provider, object_type, object_id
    on conflict (provider, object_type, object_id) do update set
      ties = object_revalidations.ties + 1,
      tied_event_ids = excluded.tied_event_ids,
      last_detected_at = now(),
      state = 'pending',
      not_before = case when object_revalidations.state = 'enqueued'
        then greatest(now(), object_revalidations.enqueued_at + make_interval(secs => ${REVALIDATION_COOLDOWN_SECONDS}))
        else object_revalidations.not_before end`;
}

/**
 * Claims up to `limit` due objects of `provider` (oldest first; rows another revalidator holds are skipped) and
 * marks them enqueued; the caller sends each and reports back with `markRevalidated` / `markRevalidationFailed`.
 */
export async function claimDueRevalidations(
  sql: Sql,
  provider: Provider,
  limit: number,
): Promise<DueRevalidation[]> {
  const rows = await sql<
    { provider: Provider; account: string; object_type: string; object_id: string; attempts: number }[]
  >`
    update object_revalidations r set state = 'enqueued', attempts = r.attempts + 1, enqueued_at = now(),
      synthetic_event_id = null
    from (
      select provider, object_type, object_id from object_revalidations
      where provider = ${provider} and state <> 'enqueued' and not_before <= now()
      order by first_detected_at, object_id
      limit ${limit}
      for update skip locked
    ) due
    where (r.provider, r.object_type, r.object_id) = (due.provider, due.object_type, due.object_id)
    returning r.provider, r.account, r.object_type, r.object_id, r.attempts`;
  return rows.map((r) => ({
    provider: r.provider,
    account: r.account,
    objectType: r.object_type,
    objectId: r.object_id,
    attempts: r.attempts,
  }));
}

export async function markRevalidated(
  sql: Sql,
  due: DueRevalidation,
  syntheticEventId: string,
): Promise<void> {
  await sql`
    update object_revalidations set synthetic_event_id = ${syntheticEventId}, last_error = null
    where provider = ${due.provider} and object_type = ${due.objectType} and object_id = ${due.objectId}`;
}

/** A failed attempt waits with backoff (1, 2, 4 … minutes, at most an hour) before it is due again. */
export async function markRevalidationFailed(
  sql: Sql,
  due: DueRevalidation,
  errorCode: string,
): Promise<void> {
  const waitSeconds = Math.min(3600, 60 * 2 ** Math.max(0, due.attempts - 1));
  await sql`
    update object_revalidations set state = 'failed', last_error = ${errorCode},
      not_before = now() + make_interval(secs => ${waitSeconds})
    where provider = ${due.provider} and object_type = ${due.objectType} and object_id = ${due.objectId}`;
}
