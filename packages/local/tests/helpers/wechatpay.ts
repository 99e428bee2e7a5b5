// Shared builders for the WeChat Pay tests of the local runtime: queue envelopes exactly as ingress writes them,
// SQS batches for the consumer, and a consumer wired to a merchant registry.
import { randomUUID } from 'node:crypto';
import type { Sql } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import { parseMerchants } from '@payhooks/core/providers/wechatpay';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { createConsumer } from '@payhooks/functions/consumer';
import { stripeNormalizerFromEnv, wechatpayNormalizer } from '@payhooks/functions/wiring/normalizers';
import type { SandboxMerchant, SandboxMerchants } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import type { WechatpayNotificationSpec } from '@payhooks/testkit/sandbox/wechatpay-scenario';
import { encodeNotification } from '@payhooks/testkit/sandbox/wechatpay-sender';
import type { SQSEvent } from 'aws-lambda';
import pino from 'pino';

export const silentLogger = createLogger({ name: 'test', destination: pino.destination('/dev/null') });

/** The queue message ingress would enqueue for this notification (rawBody = the encrypted body). */
export function wechatpayEnvelope(
  spec: WechatpayNotificationSpec,
  merchant: SandboxMerchant,
  rawBody?: string,
): string {
  return JSON.stringify({
    v: 1,
    provider: 'wechatpay',
    eventId: spec.id,
    eventType: spec.eventType,
    account: merchant.id,
    occurredAt: spec.createTime,
    receivedAt: new Date().toISOString(),
    rawBody: rawBody ?? encodeNotification(spec, merchant.apiv3Key),
  });
}

export function sqsBatch(bodies: readonly string[], ids: readonly string[] = []): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: ids[i] ?? randomUUID(),
      receiptHandle: 'r',
      body,
      attributes: {} as never,
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn',
      awsRegion: 'us-east-1',
    })),
  };
}

export function wechatpayConsumer(sql: Sql, sandbox: SandboxMerchants, metrics = new MemoryMetrics()) {
  const consumer = createConsumer({
    sql,
    normalizers: {
      stripe: stripeNormalizerFromEnv({}),
      wechatpay: wechatpayNormalizer(parseMerchants(sandbox.document)),
    },
    logger: silentLogger,
    metrics,
  });
  return { consumer, metrics };
}
