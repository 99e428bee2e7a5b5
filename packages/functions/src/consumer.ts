// Lambda: SQS consumer. One transaction per batch with a savepoint per message, so a bad message fails only
// itself and is reported alone (partial batch response); if the commit fails, the whole batch is retried.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { decodeEnvelope, type Envelope } from '@payhooks/core/envelope';
import { NormalizeError } from '@payhooks/core/errors';
import {
  type ApplyOutcome,
  applyEnvelope,
  type EnvelopeNormalizer,
  type Sql,
  type Tx,
} from '@payhooks/core/ledger';
import { createLogger, errorFields } from '@payhooks/core/logger';
import type { Logger, Metrics } from '@payhooks/core/ports';
import { normalizeStripeEvent } from '@payhooks/core/providers/stripe';
import { type MerchantRegistry, openNotification } from '@payhooks/core/providers/wechatpay';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { sqlFromEnv } from './adapters/db.ts';
import { metricsFor } from './adapters/metrics.ts';
import { type Env, once, optional } from './config.ts';
import { merchantsFromEnv } from './wechatpay-merchants.ts';

export type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

export interface ConsumerDeps {
  sql: Sql;
  normalizers: Record<Envelope['provider'], EnvelopeNormalizer>;
  logger: Logger;
  metrics: Metrics;
}

// deadlock_detected, serialization_failure: another batch held a row this one needed.
const LOCK_CONFLICTS = new Set(['40P01', '40001']);

/** Every record of a batch failed: thrown so the invocation counts as an error (consumer-errors alarm). */
export class BatchFailedError extends Error {
  constructor(count: number) {
    super(`All records failed processing (${count})`);
    this.name = 'BatchFailedError';
  }
}

/** Inbox keys in one global order, so two batches holding the same duplicates never wait on each other in a cycle. */
function lockOrderKey(record: SQSRecord): string {
  try {
    const { provider, eventId } = JSON.parse(record.body) as { provider?: unknown; eventId?: unknown };
    return `${String(provider)}\u0000${String(eventId)}`;
  } catch {
    return '';
  }
}

export function createConsumer(deps: ConsumerDeps): SqsHandler {
  const { sql, normalizers, logger, metrics } = deps;
  const applyRecord = async (tx: Tx, record: SQSRecord, conflicts: Set<string>): Promise<ApplyOutcome> => {
    const receiveCount = record.attributes?.ApproximateReceiveCount;
    let envelope: Envelope | undefined;
    try {
      envelope = decodeEnvelope(record.body);
      const current = envelope;
      const result = await tx.savepoint((sp) => applyEnvelope(sp, current, normalizers[current.provider]));
      metrics.count(result.outcome === 'duplicate' ? 'EventDuplicate' : 'EventApplied', 1, {
        provider: envelope.provider,
      });
      for (const anomaly of result.outcome === 'duplicate' ? [] : result.anomalies) {
        metrics.count('PaymentAnomaly', 1, { provider: envelope.provider, kind: anomaly.kind });
        logger.warn('payment differs from the merchant order', {
          provider: envelope.provider,
          eventId: envelope.eventId,
          ...anomaly,
        });
      }
      logger.debug('event processed', {
        provider: envelope.provider,
        eventId: envelope.eventId,
        outcome: result.outcome,
      });
      return result;
    } catch (error) {
      const fields = {
        messageId: record.messageId,
        provider: envelope?.provider,
        eventId: envelope?.eventId,
        receiveCount,
        ...errorFields(error),
      };
      if (LOCK_CONFLICTS.has((error as { code?: string }).code ?? '')) {
        conflicts.add(record.messageId);
        metrics.count('EventLockConflict', 1, { provider: envelope?.provider ?? 'unknown' });
        logger.warn('event lost a lock conflict; retrying it after this batch commits', fields);
      } else {
        metrics.count('EventFailed', 1, { provider: envelope?.provider ?? 'unknown' });
        logger.error('event could not be applied; it goes back to the queue', fields);
      }
      throw error;
    }
  };

  /** One transaction, a savepoint per record; returns the message ids that failed. */
  const runBatch = async (records: SQSRecord[], conflicts: Set<string>): Promise<Set<string>> => {
    const processor = new BatchProcessor(EventType.SQS);
    const response = (await sql.begin((tx) =>
      processPartialResponse(
        { Records: records },
        (record: SQSRecord) => applyRecord(tx, record, conflicts),
        processor,
        {
          processInParallel: false, // one connection, one transaction: savepoints run one after another
          throwOnFullBatchFailure: false,
        },
      ),
    )) as SQSBatchResponse;
    return new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  };

  return async (event) => {
    const records = [...event.Records].sort((a, b) => (lockOrderKey(a) < lockOrderKey(b) ? -1 : 1));
    const conflicts = new Set<string>();
    const failed = await runBatch(records, conflicts);
    // The transaction that won the conflict has committed by now: retry the losers at once, one at a time,
    // instead of leaving them invisible until the visibility timeout.
    for (const record of records.filter((r) => conflicts.has(r.messageId))) {
      const retryFailed = await runBatch([record], new Set());
      if (retryFailed.size === 0) failed.delete(record.messageId);
    }
    if (failed.size > 0 && failed.size === records.length) throw new BatchFailedError(records.length);
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

export function stripeNormalizerFromEnv(env: Env): EnvelopeNormalizer {
  const orderMetadataKey = optional(env, 'STRIPE_ORDER_METADATA_KEY', 'order_id');
  return (envelope) => normalizeStripeEvent(envelope.rawBody, { orderMetadataKey });
}

/**
 * WeChat Pay: envelope.account is the configured merchant id (set by ingress); its APIv3 key decrypts the
 * resource (AES-256-GCM, tag checked) and its mchid/appid must match the decrypted content. Any failure throws,
 * so the message goes back to the queue and, after maxReceiveCount, to the DLQ — never a garbage record.
 */
export function wechatpayNormalizer(
  registry: MerchantRegistry | (() => Promise<MerchantRegistry>),
): EnvelopeNormalizer {
  return async (envelope) => {
    const merchants = typeof registry === 'function' ? await registry() : registry;
    const merchant = merchants.byId(envelope.account);
    if (!merchant) {
      throw new NormalizeError(
        'WECHATPAY_UNKNOWN_MERCHANT',
        `no WeChat Pay merchant "${envelope.account}" is configured`,
      );
    }
    return openNotification(envelope.rawBody, merchant).event;
  };
}

/** The merchant configuration is loaded on the first WeChat Pay message: without it Stripe events still flow. */
export function wechatpayNormalizerFromEnv(env: Env): EnvelopeNormalizer {
  return wechatpayNormalizer(once(() => merchantsFromEnv(env)));
}

export function createConsumerHandler(env: Env, overrides: Partial<ConsumerDeps> = {}): SqsHandler {
  const setup = once(async () =>
    createConsumer({
      sql: sqlFromEnv(env, 'payhooks-consumer'),
      normalizers: {
        stripe: stripeNormalizerFromEnv(env),
        wechatpay: wechatpayNormalizerFromEnv(env),
      },
      logger: createLogger({ name: 'consumer' }),
      metrics: metricsFor('consumer', env),
      ...overrides,
    }),
  );
  return async (event) => (await setup())(event);
}

export const handler: SqsHandler = createConsumerHandler(process.env);
