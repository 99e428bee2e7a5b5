// Failure reasons of queued events (table delivery_failures, migration 0007): the consumer notes each failed
// attempt while it handles a batch and writes them in one statement after the batch, outside the transaction that
// failed (a rolled-back transaction would take its own record with it). The DLQ tools read the last reason and
// the number of failed attempts per event — the consumer's own count, not the SQS receive count the CLI's looks
// would inflate. What is stored is an error code and a sanitized message, never a body, a secret or payer data.
import type { Envelope } from '../envelope.ts';
import { maskSecrets } from '../logger.ts';
import type { Logger } from '../ports.ts';
import type { Sql } from './db.ts';

/** SQS keeps a dead letter at most 14 days; a failure record older than that describes a deleted message. */
export const DELIVERY_FAILURE_RETENTION_DAYS = 14;
/** A consumer container prunes at most this often (its first flush included). */
export const DELIVERY_FAILURE_PRUNE_INTERVAL_MS = 60 * 60 * 1000;
const MAX_MESSAGE_CHARS = 300;

export interface DeliveryFailureNote {
  messageId: string;
  /** The delivery's SQS receive count as the consumer saw it (1 = first attempt). */
  attempt: number;
  envelope: Pick<Envelope, 'provider' | 'eventId' | 'eventType'> | undefined;
  error: unknown;
}

/**
 * A stable code for an error: a PayhooksError's `code`, `PG_<sqlstate>` for a database error, otherwise
 * `UNEXPECTED_<ErrorName>` (a bug: the runbook says to read the consumer log for the stack).
 */
export function failureCode(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') {
      return error.name === 'PostgresError' || /^[0-9A-Z]{5}$/.test(code) ? `PG_${code}` : code;
    }
    return `UNEXPECTED_${error.name.replace(/[^A-Za-z0-9]/g, '') || 'Error'}`;
  }
  return 'UNEXPECTED_THROW';
}

/**
 * The message with anything that could be data replaced: quoted literals (Postgres quotes the offending value),
 * e-mail addresses, long digit runs (card-like, phone, ids), then secrets masked, then cut to 300 characters.
 */
export function sanitizeFailureMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const cleaned = maskSecrets(text)
    .replace(/"[^"]*"|'[^']*'|“[^”]*”/g, '"…"')
    .replace(/[^\s@"]+@[^\s@"]+\.[A-Za-z]{2,}/g, '[email]')
    .replace(/\d{6,}/g, '[digits]')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned.length > MAX_MESSAGE_CHARS ? `${cleaned.slice(0, MAX_MESSAGE_CHARS - 1)}…` : cleaned;
}

export interface DeliveryFailureRecorder {
  /** Remembers a failed attempt (synchronous: it is called from inside the transaction that is failing). */
  note(failure: DeliveryFailureNote): void;
  /** Writes what was noted in one statement and prunes when due; never throws (a failure to record is logged). */
  flush(): Promise<void>;
}

export function createDeliveryFailureRecorder(options: {
  sql: Sql;
  logger: Logger;
  now?: () => number;
}): DeliveryFailureRecorder {
  const { sql, logger } = options;
  const now = options.now ?? Date.now;
  let pending: DeliveryFailureNote[] = [];
  let lastPruneAt: number | undefined;
  return {
    note(failure) {
      pending.push(failure);
    },
    async flush() {
      const batch = pending;
      pending = [];
      try {
        if (batch.length > 0) {
          const rows = batch.map((f) => ({
            message_id: f.messageId,
            provider: f.envelope?.provider ?? null,
            event_id: f.envelope?.eventId ?? null,
            event_type: f.envelope?.eventType ?? null,
            attempt: Number.isFinite(f.attempt) ? f.attempt : 0,
            error_code: failureCode(f.error),
            error_message: sanitizeFailureMessage(f.error),
          }));
          await sql`insert into delivery_failures ${sql(rows)}`;
        }
        const at = now();
        if (lastPruneAt === undefined || at - lastPruneAt >= DELIVERY_FAILURE_PRUNE_INTERVAL_MS) {
          lastPruneAt = at;
          await pruneDeliveryFailures(sql, new Date(at));
        }
      } catch (error) {
        logger.warn('delivery failures could not be recorded', {
          failures: batch.length,
          errorCode: failureCode(error),
          errorMessage: sanitizeFailureMessage(error),
        });
      }
    },
  };
}

/** Deletes failure records older than the DLQ retention; returns how many. */
export async function pruneDeliveryFailures(sql: Sql, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - DELIVERY_FAILURE_RETENTION_DAYS * 86_400_000);
  const result = await sql`delete from delivery_failures where failed_at < ${cutoff}`;
  return result.count;
}

export interface DeliveryFailureSummary {
  provider: string | null;
  eventId: string | null;
  messageId: string;
  /** Failed attempts the consumer recorded for this event (or message, when it is not an envelope). */
  failedAttempts: number;
  lastFailedAt: string;
  lastAttempt: number;
  errorCode: string;
  errorMessage: string;
}

export interface DeliveryFailureQuery {
  /** Events by provider and event id. */
  events?: readonly { provider: string; eventId: string }[];
  /** Messages that are not envelopes, by SQS message id. */
  messageIds?: readonly string[];
}

/**
 * The last reason and the failed-attempt count per asked event / message. Keys: `provider:eventId`, or
 * `message:<id>`. The keys travel as one JSON parameter (no array types needed, so no type fetch through the proxy).
 */
export async function latestDeliveryFailures(
  sql: Sql,
  query: DeliveryFailureQuery,
): Promise<Map<string, DeliveryFailureSummary>> {
  const out = new Map<string, DeliveryFailureSummary>();
  const events = query.events ?? [];
  const messageIds = query.messageIds ?? [];
  type Row = {
    provider: string | null;
    event_id: string | null;
    message_id: string;
    failed_attempts: bigint;
    failed_at: Date;
    attempt: number;
    error_code: string;
    error_message: string;
  };
  const summarize = (row: Row): DeliveryFailureSummary => ({
    provider: row.provider,
    eventId: row.event_id,
    messageId: row.message_id,
    failedAttempts: Number(row.failed_attempts),
    lastFailedAt: row.failed_at.toISOString(),
    lastAttempt: row.attempt,
    errorCode: row.error_code,
    errorMessage: row.error_message,
  });
  if (events.length > 0) {
    const rows = await sql<Row[]>`
      select distinct on (f.provider, f.event_id)
        f.provider, f.event_id, f.message_id, f.failed_at, f.attempt, f.error_code, f.error_message,
        count(*) over (partition by f.provider, f.event_id) as failed_attempts
      from delivery_failures f
      join jsonb_to_recordset(${JSON.stringify(events.map((e) => ({ p: e.provider, e: e.eventId })))}::text::jsonb)
        as asked(p text, e text) on asked.p = f.provider and asked.e = f.event_id
      order by f.provider, f.event_id, f.failed_at desc, f.id desc`;
    for (const row of rows) out.set(`${row.provider}:${row.event_id}`, summarize(row));
  }
  if (messageIds.length > 0) {
    const rows = await sql<Row[]>`
      select distinct on (f.message_id)
        f.provider, f.event_id, f.message_id, f.failed_at, f.attempt, f.error_code, f.error_message,
        count(*) over (partition by f.message_id) as failed_attempts
      from delivery_failures f
      where f.message_id in (select jsonb_array_elements_text(${JSON.stringify(messageIds)}::text::jsonb))
      order by f.message_id, f.failed_at desc, f.id desc`;
    for (const row of rows) out.set(`message:${row.message_id}`, summarize(row));
  }
  return out;
}

/** The key `latestDeliveryFailures` files a dead letter's summary under. */
export function deliveryFailureKey(letter: {
  messageId: string;
  envelope?: Pick<Envelope, 'provider' | 'eventId'> | undefined;
}): string {
  return letter.envelope
    ? `${letter.envelope.provider}:${letter.envelope.eventId}`
    : `message:${letter.messageId}`;
}
