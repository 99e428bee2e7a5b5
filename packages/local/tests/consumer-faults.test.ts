// A message the consumer cannot apply fails alone: the rest of its batch commits, it goes back to the queue,
// and after maxReceiveCount receives it is in the dead-letter queue, not in the ledger.
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSql } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { createConsumer } from '@payhooks/functions/consumer';
import { stripeNormalizerFromEnv } from '@payhooks/functions/wiring/normalizers';
import {
  buildStripeScenario,
  randomWebhookSecret,
  type StripeEventJson,
} from '@payhooks/testkit/sandbox/stripe-scenario';
import { sendDeliveries, signStripePayload } from '@payhooks/testkit/sandbox/stripe-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import type { SQSEvent } from 'aws-lambda';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../src/stack.ts';
import { expectDeadLetters } from './helpers/dead-letters.ts';

const secret = randomWebhookSecret();
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

const envelope = (event: StripeEventJson) =>
  JSON.stringify({
    v: 1,
    provider: 'stripe',
    eventId: event.id,
    eventType: event.type,
    account: '',
    occurredAt: new Date(event.created * 1000).toISOString(),
    receivedAt: new Date().toISOString(),
    rawBody: JSON.stringify(event),
  });

/** A correctly signed event whose object Stripe would never send: it passes ingress and fails in the consumer. */
function poison(template: StripeEventJson): StripeEventJson {
  return {
    ...template,
    id: 'evt_poisonpill',
    data: { object: { ...template.data.object, status: 'teleported' } },
  };
}

describe('consumer batch with a poison message', () => {
  it('reports only the poison message as failed and commits the others', async () => {
    const events = buildStripeScenario({ seed: 5, payments: 4 })
      .events.filter((e) => e.type.startsWith('payment_intent'))
      .slice(0, 9);
    const bad = poison(events[0]!);
    const records = [...events.slice(0, 4), bad, ...events.slice(4)].map((event) => ({
      messageId: event.id === bad.id ? 'poison-message' : randomUUID(),
      receiptHandle: 'r',
      body: envelope(event),
      attributes: {} as never,
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn',
      awsRegion: 'us-east-1',
    }));
    const metrics = new MemoryMetrics();
    const consumer = createConsumer({
      sql: db.sql,
      normalizers: {
        stripe: stripeNormalizerFromEnv({}),
        wechatpay: () => {
          throw new Error('unused');
        },
      },
      logger: createLogger({ name: 'test', destination: pino.destination('/dev/null') }),
      metrics,
    });
    const result = await consumer({ Records: records } as SQSEvent);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'poison-message' }]);
    const stored = await db.sql<{ event_id: string }[]>`select event_id from inbox_events`;
    expect(new Set(stored.map((r) => r.event_id))).toEqual(new Set(events.map((e) => e.id)));
    expect(metrics.total('EventFailed')).toBe(1);
    // A garbage envelope fails alone too; a batch where everything fails throws, so Lambda counts an error.
    const garbage = await consumer({
      Records: [{ ...records[0]!, messageId: 'garbage', body: '{"v":2}' }, records[1]!],
    } as SQSEvent);
    expect(garbage.batchItemFailures).toEqual([{ itemIdentifier: 'garbage' }]);
    await expect(consumer({ Records: [{ ...records[0]!, body: 'not json' }] } as SQSEvent)).rejects.toThrow(
      /All records failed/,
    );
  });
});

describe('poison message through the local runtime', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    const second = await createTestDatabase();
    stack = await startLocalStack({
      stateDir: await mkdtemp(path.join(os.tmpdir(), 'payhooks-faults-')),
      port: 0,
      databaseUrl: second.url,
      stripeWebhookSecrets: [secret],
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 2,
      batchSize: 10,
    });
    const stop = stack.stop;
    stack.stop = async () => {
      await stop();
      await second.drop();
    };
  });
  afterAll(async () => stack?.stop());

  it('lands in the DLQ after maxReceiveCount while the good events are applied', async () => {
    const events = buildStripeScenario({ seed: 9, payments: 5 }).events;
    const bad = poison(events.find((e) => e.type === 'payment_intent.created')!);
    const now = Math.floor(Date.now() / 1000);
    const deliveries = [...events, bad].map((event) => {
      const body = JSON.stringify(event);
      return {
        kind: 'genuine' as const,
        eventId: event.id,
        path: '/webhooks/stripe',
        body,
        signature: signStripePayload(body, [secret], now),
      };
    });
    const results = await sendDeliveries(stack.gatewayUrl, deliveries, 4);
    expect(results.every((r) => r.status === 200)).toBe(true);
    await stack.drain();

    const inbox = await stack.sql<{ event_id: string }[]>`select event_id from inbox_events`;
    expect(inbox.map((r) => r.event_id).sort()).toEqual(events.map((e) => e.id).sort());
    await expectDeadLetters(stack, ['evt_poisonpill']);
    // One failure per receive; a receive can repeat when a batch outlives the 1 s visibility timeout.
    expect(stack.metrics.consumer.total('EventFailed')).toBeGreaterThanOrEqual(2);
  });
});

describe('lock conflicts between concurrent batches', () => {
  it('two batches touching the same objects in opposite order both commit (applying in arrival order deadlocked here)', async () => {
    const conflictDb = await createTestDatabase();
    const at = 1_763_900_000;
    const pi = (id: string, n: number) =>
      ({
        id: `evt_lock${n}`,
        object: 'event',
        type: 'payment_intent.succeeded',
        created: at + n,
        api_version: '2026-10-28.endive',
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        data: {
          object: {
            id,
            object: 'payment_intent',
            amount: 100 + n,
            currency: 'usd',
            status: 'succeeded',
            created: at,
            metadata: {},
          },
        },
      }) as unknown as StripeEventJson;
    // Batch one writes pi_X then pi_Y; batch two pi_Y then pi_X, both paused after their first event. With one
    // transaction per batch each would hold its first row while waiting for the other's: a deadlock.
    const one = [pi('pi_X', 1), pi('pi_Y', 2)];
    const two = [pi('pi_Y', 3), pi('pi_X', 4)];
    let waiting = 0;
    let release!: () => void;
    const bothHoldALock = new Promise<void>((resolve) => {
      release = resolve;
    });
    const stripe = stripeNormalizerFromEnv({});
    const normalizer = async (envelope: Parameters<typeof stripe>[0]) => {
      if (envelope.eventId === 'evt_lock2' || envelope.eventId === 'evt_lock4') {
        waiting += 1;
        if (waiting === 2) release();
        await bothHoldALock;
      }
      return stripe(envelope);
    };
    const metrics = new MemoryMetrics();
    const container = () =>
      createConsumer({
        sql: createSql({ url: conflictDb.url, max: 1 }),
        normalizers: {
          stripe: normalizer,
          wechatpay: () => {
            throw new Error('unused');
          },
        },
        logger: createLogger({ name: 'test', destination: pino.destination('/dev/null') }),
        metrics,
      });
    const batch = (events: StripeEventJson[]) =>
      ({
        Records: events.map((e) => ({
          messageId: e.id,
          receiptHandle: 'r',
          body: envelope(e),
          attributes: {} as never,
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn',
          awsRegion: 'us-east-1',
        })),
      }) as SQSEvent;
    try {
      const [first, second] = await Promise.all([container()(batch(one)), container()(batch(two))]);
      expect([...first.batchItemFailures, ...second.batchItemFailures]).toEqual([]);
      expect(metrics.total('EventFailed')).toBe(0);
      const rows = await conflictDb.sql<{ provider_payment_id: string; amount_minor: bigint }[]>`
        select provider_payment_id, amount_minor from payments order by 1`;
      expect(rows).toEqual([
        { provider_payment_id: 'pi_X', amount_minor: 104n },
        { provider_payment_id: 'pi_Y', amount_minor: 103n },
      ]);
    } finally {
      await conflictDb.drop();
    }
  });
});
