// Lambda: SQS consumer. A batch is applied in one transaction with its row locks taken in a global order; a message
// that cannot be decoded fails alone, and a database error falls back to a transaction per message, so a bad
// message is always reported alone in the partial batch response. A batch where all fail throws. Claim-check
// objects of the messages that were applied or found duplicates are removed once their batch committed.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { type Envelope, eventsInInbox, isClaimMessage, resolveClaimMessage } from '@payhooks/core/envelope';
import { ClaimCheckError } from '@payhooks/core/errors';
import {
  type ApplyOutcome,
  applyEnvelope,
  type BatchOutcome,
  commitEnvelopeBatch,
  createDeliveryFailureRecorder,
} from '@payhooks/core/ledger';
import { errorFields } from '@payhooks/core/logger';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { decodeQueueMessage } from './adapters/eventbridge.ts';
import { type Env, once } from './config.ts';
import { BatchFailedError, MissingOutcomeError } from './errors.ts';
import { type ConsumerDeps, consumerDepsFromEnv } from './wiring/consumer.ts';
import { guarded } from './wiring/stage-guard.ts';

export type { ConsumerDeps };

export type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/**
 * LedgerLag: provider event time (envelope.occurredAt) → commit of the transaction that applied the event, per
 * applied event (duplicates changed nothing, so they have no lag). Only the service dimension: the stacks'
 * p99 alarm reads that one series.
 */
export function recordLedgerLag(
  metrics: ConsumerDeps['metrics'],
  envelope: Envelope,
  result: { outcome: string },
  committedAt: number,
): void {
  if (result.outcome === 'duplicate' || !metrics.milliseconds) return;
  const occurredAt = Date.parse(envelope.occurredAt);
  if (Number.isFinite(occurredAt)) metrics.milliseconds('LedgerLag', Math.max(0, committedAt - occurredAt));
}

export { BatchFailedError };

/** Claim-check failures that mean "no object to read": a duplicate if the event is already in the inbox. */
const GONE = new Set(['CLAIM_CHECK_MISSING', 'CLAIM_CHECK_UNREADABLE']);

export function createConsumer(deps: ConsumerDeps): SqsHandler {
  const { sql, normalizers, logger, metrics } = deps;
  // Failure reasons for the DLQ tools (delivery_failures), written after the batch, outside its transaction.
  const failures = deps.failures ?? createDeliveryFailureRecorder({ sql, logger });

  const succeeded = (envelope: Envelope, result: ApplyOutcome) => {
    const { provider, eventId } = envelope;
    metrics.count(result.outcome === 'duplicate' ? 'EventDuplicate' : 'EventApplied', 1, { provider });
    for (const anomaly of result.outcome === 'duplicate' ? [] : result.anomalies) {
      metrics.count('PaymentAnomaly', 1, { provider, kind: anomaly.kind });
      logger.warn('payment differs from the merchant order', { provider, eventId, ...anomaly });
    }
    logger.debug('event processed', { provider, eventId, outcome: result.outcome });
  };
  const failed = (
    record: SQSRecord,
    envelope: Pick<Envelope, 'provider' | 'eventId' | 'eventType'> | undefined,
    error: unknown,
  ) => {
    metrics.count('EventFailed', 1, { provider: envelope?.provider ?? 'unknown' });
    logger.error('event could not be applied; it goes back to the queue', {
      messageId: record.messageId,
      provider: envelope?.provider,
      eventId: envelope?.eventId,
      receiveCount: record.attributes?.ApproximateReceiveCount,
      ...errorFields(error),
    });
    const attempt = Number(record.attributes?.ApproximateReceiveCount ?? 0);
    failures.note({ messageId: record.messageId, attempt, envelope, error });
  };

  /**
   * Claim-checked messages get their stored body back (hash checked) before anything is decoded; a reference
   * that cannot be resolved fails alone with its reason (CLAIM_CHECK_*), as an undecodable message does —
   * unless its object is gone (or unreadable) and its event is already in the inbox: the object was removed
   * after an earlier copy was applied, so this copy is a duplicate and is acknowledged. Resolved references are
   * noted in `claimed` (message id → key) for removal after the batch. Objects are read in parallel; inline
   * messages pass untouched.
   */
  const withClaimedBodies = async (
    records: SQSRecord[],
    failures: string[],
    claimed: Map<string, string>,
  ): Promise<SQSRecord[]> => {
    if (!records.some((record) => isClaimMessage(record.body))) return records;
    const gone: {
      record: SQSRecord;
      error: ClaimCheckError & { event: NonNullable<ClaimCheckError['event']> };
    }[] = [];
    const resolved = await Promise.all(
      records.map(async (record) => {
        if (!isClaimMessage(record.body)) return record;
        try {
          const { body, claim } = await resolveClaimMessage(record.body, deps.claims);
          if (claim) claimed.set(record.messageId, claim.key);
          return { ...record, body };
        } catch (error) {
          if (error instanceof ClaimCheckError && error.event && GONE.has(error.code))
            gone.push({ record, error: error as (typeof gone)[number]['error'] });
          else {
            failed(record, error instanceof ClaimCheckError ? error.event : undefined, error);
            failures.push(record.messageId);
          }
          return undefined;
        }
      }),
    );
    if (gone.length > 0) {
      let known = new Set<string>();
      try {
        known = await eventsInInbox(
          sql,
          gone.map(({ error }) => error.event),
        );
      } catch (error) {
        logger.warn('inbox lookup for claim-check messages without an object failed', errorFields(error));
      }
      for (const { record, error } of gone) {
        const { provider, eventId } = error.event;
        if (known.has(`${provider}:${eventId}`)) {
          metrics.count('EventDuplicate', 1, { provider });
          logger.debug('claim-check object already removed; its event is in the inbox', {
            provider,
            eventId,
            outcome: 'duplicate',
          });
        } else {
          failed(record, error.event, error);
          failures.push(record.messageId);
        }
      }
    }
    return resolved.filter((record): record is SQSRecord => record !== undefined);
  };

  /**
   * After the batch: removes the objects of the claim-checked messages that succeeded (applied or duplicate; their
   * event is in the inbox now), but not one that a failed message of the batch names too. A removal that fails is
   * logged and left to the bucket's lifecycle expiry; it never fails the message.
   */
  const removeClaimObjects = async (claimed: Map<string, string>, response: SQSBatchResponse) => {
    if (claimed.size === 0) return;
    const failedIds = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    const kept = new Set([...claimed].filter(([id]) => failedIds.has(id)).map(([, key]) => key));
    const removable = new Set([...claimed.values()].filter((key) => !kept.has(key)));
    await Promise.all(
      [...removable].map(async (key) => {
        try {
          await deps.claims!.delete(key);
        } catch (error) {
          metrics.count('ClaimCheckRemoveFailed', 1, {});
          logger.warn('claim-check object could not be removed; lifecycle expiry will', {
            key,
            ...errorFields(error),
          });
        }
      }),
    );
  };

  /** The fallback: a transaction per message isolates a message whose writes the database refuses. */
  const oneByOne = async (records: SQSRecord[]): Promise<SQSBatchResponse> => {
    const processor = new BatchProcessor(EventType.SQS);
    return (await processPartialResponse(
      { Records: records },
      async (record: SQSRecord) => {
        const { envelope, result } = await sql.begin(async (tx) => {
          let envelope: Envelope | undefined;
          try {
            envelope = decodeQueueMessage(record.body);
            const result = await applyEnvelope(tx, envelope, normalizers[envelope.provider]);
            return { envelope, result };
          } catch (error) {
            failed(record, envelope, error);
            throw error;
          }
        });
        // Counted once committed, like the batch path: a failed commit must not count as applied.
        succeeded(envelope, result);
        recordLedgerLag(metrics, envelope, result, Date.now());
        return result;
      },
      processor,
      { processInParallel: false, throwOnFullBatchFailure: false },
    )) as SQSBatchResponse;
  };

  /**
   * The whole batch in one transaction, row locks taken in one global order (commitEnvelopeBatch: a read of the
   * events already known, then two pipelined round trips, begin and commit included): one commit per batch, and concurrent batches about the same objects
   * wait for each other but never deadlock.
   */
  const together = async (received: SQSRecord[], claimed: Map<string, string>): Promise<SQSBatchResponse> => {
    const failures: string[] = [];
    const records = await withClaimedBodies(received, failures, claimed);
    const items: { id: string; envelope: Envelope; record: SQSRecord }[] = [];
    for (const record of records) {
      try {
        items.push({ id: record.messageId, envelope: decodeQueueMessage(record.body), record });
      } catch (error) {
        failed(record, undefined, error);
        failures.push(record.messageId);
      }
    }
    let outcomes: Map<string, BatchOutcome>;
    let committedAt: number;
    try {
      outcomes = await commitEnvelopeBatch(sql, items, (envelope) => normalizers[envelope.provider]);
      committedAt = Date.now();
    } catch (error) {
      logger.warn('batch transaction failed; applying its messages one by one', {
        messages: items.length,
        ...errorFields(error),
      });
      const single = await oneByOne(items.map((item) => item.record));
      return {
        batchItemFailures: [
          ...failures.map((itemIdentifier) => ({ itemIdentifier })),
          ...single.batchItemFailures,
        ],
      };
    }
    for (const { id, envelope, record } of items) {
      const outcome = outcomes.get(id);
      if (!outcome || outcome.outcome === 'failed') {
        failed(record, envelope, outcome?.error ?? new MissingOutcomeError());
        failures.push(id);
      } else {
        succeeded(envelope, outcome);
        recordLedgerLag(metrics, envelope, outcome, committedAt);
      }
    }
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };

  return async (event) => {
    const claimed = new Map<string, string>();
    const response = await together(event.Records, claimed).finally(() => failures.flush());
    await removeClaimObjects(claimed, response);
    if (response.batchItemFailures.length > 0 && response.batchItemFailures.length === event.Records.length) {
      throw new BatchFailedError(event.Records.length);
    }
    return response;
  };
}

/** The Lambda's consumer: dependencies from the environment (wiring/consumer.ts), built on the first batch. */
export function createConsumerHandler(env: Env, overrides: Partial<ConsumerDeps> = {}): SqsHandler {
  const setup = once(async () => createConsumer(consumerDepsFromEnv(env, overrides)));
  return async (event) => (await setup())(event);
}

export const handler: SqsHandler = guarded(
  process.env,
  { service: 'consumer', checkStripeLivemode: true },
  createConsumerHandler(process.env),
);
