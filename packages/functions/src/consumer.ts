// Lambda: SQS consumer. Each message is applied in its own transaction (inbox row + projections), so a bad message
// fails only itself and is reported alone in the partial batch response; a batch where all fail throws.
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

/** Every record of a batch failed: thrown so the invocation counts as an error (consumer-errors alarm). */
export class BatchFailedError extends Error {
  constructor(count: number) {
    super(`All records failed processing (${count})`);
    this.name = 'BatchFailedError';
  }
}

export function createConsumer(deps: ConsumerDeps): SqsHandler {
  const { sql, normalizers, logger, metrics } = deps;
  const applyRecord = async (tx: Tx, record: SQSRecord): Promise<ApplyOutcome> => {
    let envelope: Envelope | undefined;
    try {
      envelope = decodeEnvelope(record.body);
      const { provider, eventId } = envelope;
      const result = await applyEnvelope(tx, envelope, normalizers[provider]);
      metrics.count(result.outcome === 'duplicate' ? 'EventDuplicate' : 'EventApplied', 1, { provider });
      for (const anomaly of result.outcome === 'duplicate' ? [] : result.anomalies) {
        metrics.count('PaymentAnomaly', 1, { provider, kind: anomaly.kind });
        logger.warn('payment differs from the merchant order', { provider, eventId, ...anomaly });
      }
      logger.debug('event processed', { provider, eventId, outcome: result.outcome });
      return result;
    } catch (error) {
      metrics.count('EventFailed', 1, { provider: envelope?.provider ?? 'unknown' });
      logger.error('event could not be applied; it goes back to the queue', {
        messageId: record.messageId,
        provider: envelope?.provider,
        eventId: envelope?.eventId,
        receiveCount: record.attributes?.ApproximateReceiveCount,
        ...errorFields(error),
      });
      throw error;
    }
  };

  return async (event) => {
    // One short transaction per record: the inbox row and its projections commit together, and row locks are
    // held for one event only, so concurrent batches about the same objects neither wait on a whole batch nor
    // deadlock across events (a transaction per batch did both: see docs/decisions.md).
    const processor = new BatchProcessor(EventType.SQS);
    const response = (await processPartialResponse(
      event,
      (record: SQSRecord) => sql.begin((tx) => applyRecord(tx, record)),
      processor,
      { processInParallel: false, throwOnFullBatchFailure: false },
    )) as SQSBatchResponse;
    if (response.batchItemFailures.length > 0 && response.batchItemFailures.length === event.Records.length) {
      throw new BatchFailedError(event.Records.length);
    }
    return response;
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
