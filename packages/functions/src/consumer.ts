// Lambda: SQS consumer. A batch is applied in one transaction with its row locks taken in a global order; a message
// that cannot be decoded fails alone, and a database error falls back to a transaction per message, so a bad
// message is always reported alone in the partial batch response. A batch where all fail throws.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { decodeEnvelope, type Envelope } from '@payhooks/core/envelope';
import { ConfigError, NormalizeError, PayhooksError } from '@payhooks/core/errors';
import {
  type ApplyOutcome,
  applyEnvelope,
  applyEnvelopeBatch,
  type BatchOutcome,
  type EnvelopeNormalizer,
  type Sql,
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

/** Every record of a batch failed: thrown so the invocation counts as an error (consumer-errors alarm). */
export class BatchFailedError extends PayhooksError {
  constructor(count: number) {
    super('CONSUMER_BATCH_FAILED', `All records failed processing (${count})`);
  }
}

export function createConsumer(deps: ConsumerDeps): SqsHandler {
  const { sql, normalizers, logger, metrics } = deps;

  const succeeded = (envelope: Envelope, result: ApplyOutcome) => {
    const { provider, eventId } = envelope;
    metrics.count(result.outcome === 'duplicate' ? 'EventDuplicate' : 'EventApplied', 1, { provider });
    for (const anomaly of result.outcome === 'duplicate' ? [] : result.anomalies) {
      metrics.count('PaymentAnomaly', 1, { provider, kind: anomaly.kind });
      logger.warn('payment differs from the merchant order', { provider, eventId, ...anomaly });
    }
    logger.debug('event processed', { provider, eventId, outcome: result.outcome });
  };
  const failed = (record: SQSRecord, envelope: Envelope | undefined, error: unknown) => {
    metrics.count('EventFailed', 1, { provider: envelope?.provider ?? 'unknown' });
    logger.error('event could not be applied; it goes back to the queue', {
      messageId: record.messageId,
      provider: envelope?.provider,
      eventId: envelope?.eventId,
      receiveCount: record.attributes?.ApproximateReceiveCount,
      ...errorFields(error),
    });
  };

  /** The fallback: a transaction per message isolates a message whose writes the database refuses. */
  const oneByOne = async (records: SQSRecord[]): Promise<SQSBatchResponse> => {
    const processor = new BatchProcessor(EventType.SQS);
    return (await processPartialResponse(
      { Records: records },
      (record: SQSRecord) =>
        sql.begin(async (tx) => {
          let envelope: Envelope | undefined;
          try {
            envelope = decodeEnvelope(record.body);
            const result = await applyEnvelope(tx, envelope, normalizers[envelope.provider]);
            succeeded(envelope, result);
            return result;
          } catch (error) {
            failed(record, envelope, error);
            throw error;
          }
        }),
      processor,
      { processInParallel: false, throwOnFullBatchFailure: false },
    )) as SQSBatchResponse;
  };

  /**
   * The whole batch in one transaction, row locks taken in one global order (applyEnvelopeBatch): one commit per
   * batch, and concurrent batches about the same objects wait for each other but never deadlock.
   */
  const together = async (records: SQSRecord[]): Promise<SQSBatchResponse> => {
    const failures: string[] = [];
    const items: { id: string; envelope: Envelope; record: SQSRecord }[] = [];
    for (const record of records) {
      try {
        items.push({ id: record.messageId, envelope: decodeEnvelope(record.body), record });
      } catch (error) {
        failed(record, undefined, error);
        failures.push(record.messageId);
      }
    }
    let outcomes: Map<string, BatchOutcome>;
    try {
      outcomes = await sql.begin((tx) =>
        applyEnvelopeBatch(tx, items, (envelope) => normalizers[envelope.provider]),
      );
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
        failed(record, envelope, outcome?.error ?? new Error('no outcome'));
        failures.push(id);
      } else {
        succeeded(envelope, outcome);
      }
    }
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };

  return async (event) => {
    const response = await together(event.Records);
    if (response.batchItemFailures.length > 0 && response.batchItemFailures.length === event.Records.length) {
      throw new BatchFailedError(event.Records.length);
    }
    return response;
  };
}

export function stripeNormalizerFromEnv(env: Env): EnvelopeNormalizer {
  const orderMetadataKey = optional(env, 'STRIPE_ORDER_METADATA_KEY', 'order_id');
  const mode = env.STRIPE_LIVEMODE;
  if (mode !== undefined && mode !== '' && mode !== 'true' && mode !== 'false') {
    throw new ConfigError('CONFIG_INVALID', `STRIPE_LIVEMODE must be true or false, got "${mode}"`);
  }
  const expectedLivemode = mode === 'true' ? true : mode === 'false' ? false : undefined;
  return (envelope) =>
    normalizeStripeEvent(envelope.rawBody, {
      orderMetadataKey,
      ...(expectedLivemode === undefined ? {} : { expectedLivemode }),
    });
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
