// Failure reasons: the consumer records each failed attempt (event id, provider, type, attempt, code, sanitized
// message) in delivery_failures on the embedded Postgres, outside the transaction that failed; the DLQ tools read
// the last reason and the consumer's own attempt count; rows older than the DLQ retention are pruned.
import { randomUUID } from 'node:crypto';
import { NormalizeError } from '@payhooks/core/errors';
import {
  createDeliveryFailureRecorder,
  type EnvelopeNormalizer,
  latestDeliveryFailures,
  pruneDeliveryFailures,
  sanitizeFailureMessage,
} from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../src/adapters/metrics.ts';
import { createConsumer } from '../src/consumer.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

const quiet = createLogger({ name: 'test', destination: pino.destination('/dev/null') });

function record(eventId: string, receiveCount: number, body?: string): SQSRecord {
  return {
    messageId: `m-${eventId}-${randomUUID()}`,
    receiptHandle: 'r',
    body:
      body ??
      JSON.stringify({
        v: 1,
        provider: 'stripe',
        eventId,
        eventType: 'payment_intent.succeeded',
        account: '',
        occurredAt: '2026-11-01T00:00:00.000Z',
        receivedAt: '2026-11-01T00:00:01.000Z',
        rawBody: '{}',
      }),
    attributes: { ApproximateReceiveCount: String(receiveCount) } as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn',
    awsRegion: 'us-east-1',
  };
}

/** Events whose id starts with evt_bad fail to normalize with a message full of data that must not be stored. */
const normalizer: EnvelopeNormalizer = (envelope) => {
  if (envelope.eventId.startsWith('evt_bad'))
    throw new NormalizeError(
      'STRIPE_UNEXPECTED_SHAPE',
      'object for payer "alice@example.com" card 4242424242424242 key whsec_abcdefABCDEF0123 has no status',
    );
  return {
    provider: 'stripe',
    eventId: envelope.eventId,
    eventType: envelope.eventType,
    account: '',
    occurredAt: new Date(envelope.occurredAt),
    apiVersion: null,
    changes: [],
  };
};

function consumer() {
  return createConsumer({
    sql: db.sql,
    normalizers: { stripe: normalizer, wechatpay: normalizer },
    logger: quiet,
    metrics: new MemoryMetrics(),
  });
}

describe('delivery failure reasons', () => {
  it('records each failed attempt with its code and a sanitized message, and commits the rest', async () => {
    const handler = consumer();
    const event: SQSEvent = {
      Records: [record('evt_good1', 1), record('evt_bad1', 1), record('x', 2, 'not an envelope')],
    };
    const response = await handler(event);
    expect(response.batchItemFailures).toHaveLength(2);
    await expect(handler({ Records: [record('evt_bad1', 2)] })).rejects.toThrow();

    const rows = await db.sql<{ event_id: string | null; attempt: number; error_code: string }[]>`
      select event_id, attempt, error_code from delivery_failures order by event_id nulls first, attempt`;
    expect(rows.map((r) => [r.event_id, r.attempt, r.error_code])).toEqual([
      [null, 2, 'ENVELOPE_NOT_JSON'],
      ['evt_bad1', 1, 'STRIPE_UNEXPECTED_SHAPE'],
      ['evt_bad1', 2, 'STRIPE_UNEXPECTED_SHAPE'],
    ]);
    const applied = await db.sql`select 1 from inbox_events where event_id = 'evt_good1'`;
    expect(applied).toHaveLength(1);

    const latest = await latestDeliveryFailures(db.sql, {
      events: [
        { provider: 'stripe', eventId: 'evt_bad1' },
        { provider: 'stripe', eventId: 'evt_good1' },
      ],
    });
    expect(latest.has('stripe:evt_good1')).toBe(false);
    const bad = latest.get('stripe:evt_bad1')!;
    expect(bad).toMatchObject({ failedAttempts: 2, lastAttempt: 2, errorCode: 'STRIPE_UNEXPECTED_SHAPE' });
    expect(bad.errorMessage).toBe('object for payer "…" card [digits] key [REDACTED] has no status');
    const stored = JSON.stringify(
      await db.sql`select error_code, error_message, event_type from delivery_failures`,
    );
    for (const secret of ['alice@example.com', '4242424242424242', 'whsec_abcdef'])
      expect(stored).not.toContain(secret);
  });

  it('prunes records older than the DLQ retention, at most once an hour per container', async () => {
    await db.sql`delete from delivery_failures`;
    await db.sql`insert into delivery_failures (failed_at, message_id, attempt, error_code, error_message)
      values (now() - interval '15 days', 'old', 1, 'X', 'x'), (now() - interval '13 days', 'recent', 1, 'X', 'x')`;
    let clock = Date.now();
    const recorder = createDeliveryFailureRecorder({ sql: db.sql, logger: quiet, now: () => clock });
    await recorder.flush();
    expect((await db.sql`select message_id from delivery_failures`).map((r) => r.message_id)).toEqual([
      'recent',
    ]);
    await db.sql`insert into delivery_failures (failed_at, message_id, attempt, error_code, error_message)
      values (now() - interval '20 days', 'old2', 1, 'X', 'x')`;
    clock += 60_000;
    await recorder.flush(); // not due yet
    expect(await db.sql`select 1 from delivery_failures where message_id = 'old2'`).toHaveLength(1);
    clock += 60 * 60_000;
    await recorder.flush();
    expect(await db.sql`select 1 from delivery_failures where message_id = 'old2'`).toHaveLength(0);
    expect(await pruneDeliveryFailures(db.sql, new Date())).toBe(0);
  });

  it('sanitizes quoted values, e-mail addresses and long digit runs, and bounds the length', () => {
    expect(sanitizeFailureMessage(new Error(`invalid input syntax for type bigint: "12a"`))).toBe(
      'invalid input syntax for type bigint: "…"',
    );
    expect(sanitizeFailureMessage('mail bob@example.cn phone 13800138000')).toBe(
      'mail [email] phone [digits]',
    );
    expect(sanitizeFailureMessage('x'.repeat(1000))).toHaveLength(300);
  });
});
