// Dead letters for the console: the side-effect-free look and selective replay of `payhooks dlq` (functions'
// adapters/dead-letters.ts, given as the OpsQueues port — one implementation for the CLI and the console) with the consumer's failure
// reasons (delivery_failures). A replay re-drives exactly the message ids the operator confirmed: if any of them
// is no longer in the DLQ (replayed by someone else, expired), nothing is sent and the answer names the missing.
import { deliveryFailureKey, latestDeliveryFailures, type Sql } from '@payhooks/core/ledger';
import { OpsRequestError } from './errors.ts';
import type { DeadLetter, OpsQueues } from './types.ts';

export interface DeadLetterRow {
  messageId: string;
  provider: string | null;
  eventId: string | null;
  eventType: string | null;
  account: string | null;
  receivedAt: string | null;
  sentAt: string | null;
  bodyBytes: number;
  /** Why the message is not an envelope, when it is not. */
  invalid: string | null;
  failedAttempts: number;
  lastFailure: { at: string; attempt: number; code: string; message: string } | null;
}

export interface DeadLetterList {
  deadLetters: DeadLetterRow[];
  /** Messages in the DLQ (visible + held), which may exceed the listing's limit. */
  depth: number;
  /** When the oldest listed dead letter was first sent (SQS keeps the original send time across the redrive). */
  oldestSentAt: string | null;
}

/** A replay asks for at most this many ids at once (the page sends what the operator ticked). */
export const MAX_REPLAY = 100;

export async function listDeadLettersWithReasons(
  sql: Sql,
  queues: OpsQueues,
  limit = 100,
): Promise<DeadLetterList> {
  const letters = await queues.listDeadLetters(limit);
  const failures = await latestDeliveryFailures(sql, {
    events: letters.flatMap((l) =>
      l.envelope ? [{ provider: l.envelope.provider, eventId: l.envelope.eventId }] : [],
    ),
    messageIds: letters.filter((l) => !l.envelope).map((l) => l.messageId),
  });
  const rows = letters.map((letter: DeadLetter): DeadLetterRow => {
    const e = letter.envelope;
    const failure = failures.get(deliveryFailureKey(letter));
    return {
      messageId: letter.messageId,
      provider: e?.provider ?? null,
      eventId: e?.eventId ?? null,
      eventType: e?.eventType ?? null,
      account: e?.account ?? null,
      receivedAt: e?.receivedAt ?? null,
      sentAt: letter.sentAt ?? null,
      bodyBytes: letter.bodyBytes,
      invalid: letter.invalid ?? null,
      failedAttempts: failure?.failedAttempts ?? 0,
      lastFailure: failure
        ? {
            at: failure.lastFailedAt,
            attempt: failure.lastAttempt,
            code: failure.errorCode,
            message: failure.errorMessage,
          }
        : null,
    };
  });
  rows.sort((a, b) => (a.sentAt ?? '').localeCompare(b.sentAt ?? ''));
  return {
    deadLetters: rows,
    depth: await queues.depth().then((d) => d.dlq.visible + d.dlq.inFlight),
    oldestSentAt: rows.find((r) => r.sentAt)?.sentAt ?? null,
  };
}

export interface ReplayResult {
  /** Sent to the main queue and deleted from the DLQ. */
  replayed: string[];
  /** Sent, but the DLQ delete failed: still listed; the inbox applies it at most once anyway. */
  sentNotDeleted: string[];
  /** Not sent: still in the DLQ. */
  notSent: string[];
}

/** Re-drives exactly `messageIds` (all present, or none sent: OPS_DLQ_MISSING, 409). */
export async function replayDeadLetterIds(
  queues: OpsQueues,
  messageIds: readonly string[],
): Promise<ReplayResult> {
  const asked = [...new Set(messageIds)];
  let missing: string[] = [];
  const result = await queues.replaySelected(async (letters) => {
    const present = new Set(letters.map((l) => l.messageId));
    missing = asked.filter((id) => !present.has(id));
    return missing.length === 0 ? new Set(asked) : new Set();
  });
  if (missing.length > 0)
    throw new OpsRequestError(
      'OPS_DLQ_MISSING',
      `not in the dead-letter queue any more: ${missing.join(', ')}; nothing was replayed — reload the list`,
      409,
    );
  return { replayed: result.moved, sentNotDeleted: result.sentNotDeleted, notSent: result.notSent };
}
