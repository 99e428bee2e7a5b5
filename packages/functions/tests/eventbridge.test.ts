// Stripe over EventBridge on real parts: an EventBridge-shaped message (what the partner bus rule puts on the
// queue) goes through the SQS emulator to the consumer and reaches the ledger exactly as the same event sent by
// webhook does; whichever path comes second is a duplicate, so a stage may run both during a migration.
import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createLogger } from '@payhooks/core/logger';
import { type LocalQueues, startLocalQueues } from '@payhooks/local/sqs';
import {
  buildStripeScenario,
  randomWebhookSecret,
  type StripeEventJson,
} from '@payhooks/testkit/sandbox/stripe-scenario';
import { signStripePayload } from '@payhooks/testkit/sandbox/stripe-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import type { APIGatewayProxyEventV2, SQSEvent, SQSRecord } from 'aws-lambda';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeQueueMessage, envelopeFromStripeEventBridge } from '../src/adapters/eventbridge.ts';
import { MemoryMetrics } from '../src/adapters/metrics.ts';
import { createConsumer } from '../src/consumer.ts';
import { createStripeWebhookHandler } from '../src/stripe-webhook.ts';
import { stripeNormalizerFromEnv } from '../src/wiring/normalizers.ts';

const secret = randomWebhookSecret();
const PARTNER_SOURCE = 'aws.partner/stripe.com/ed_test_61SandboxDestination';
let db: TestDatabase;
let queues: LocalQueues;

beforeAll(async () => {
  [db, queues] = await Promise.all([
    createTestDatabase(),
    startLocalQueues({ visibilityTimeoutSeconds: 30, maxReceiveCount: 3 }),
  ]);
});
afterAll(async () => {
  await queues?.stop();
  await db?.drop();
});

const logger = createLogger({ name: 'test', destination: pino.destination('/dev/null') });

/** What EventBridge delivers to an SQS target for a Stripe partner event: the whole event, detail = Stripe's. */
function eventBridgeMessage(event: StripeEventJson): string {
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': event.type,
    source: PARTNER_SOURCE,
    account: '123456789012',
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'ap-southeast-1',
    resources: [],
    detail: event,
  });
}

function webhookRequest(event: StripeEventJson): APIGatewayProxyEventV2 {
  const body = JSON.stringify(event);
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/stripe',
    rawPath: '/webhooks/stripe',
    rawQueryString: '',
    headers: {
      'stripe-signature': signStripePayload(body, [secret], Math.floor(Date.now() / 1000)),
      'content-type': 'application/json',
    },
    body,
    isBase64Encoded: false,
    requestContext: { requestId: randomUUID() },
  } as unknown as APIGatewayProxyEventV2;
}

/** Everything on the queue, as the event source mapping would hand it to the consumer (deleted once read). */
async function drain(): Promise<SQSRecord[]> {
  const records: SQSRecord[] = [];
  for (;;) {
    const { Messages = [] } = await queues.client.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return records;
    for (const message of Messages) {
      records.push({
        messageId: message.MessageId!,
        receiptHandle: message.ReceiptHandle!,
        body: message.Body!,
        attributes: {} as never,
        messageAttributes: {},
        md5OfBody: message.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:ap-southeast-1:000000000000:events',
        awsRegion: 'ap-southeast-1',
      });
    }
    await Promise.all(
      Messages.map((m) =>
        queues.client.send(
          new DeleteMessageCommand({ QueueUrl: queues.queueUrl, ReceiptHandle: m.ReceiptHandle! }),
        ),
      ),
    );
  }
}

function consumer(metrics: MemoryMetrics) {
  return createConsumer({
    sql: db.sql,
    normalizers: {
      stripe: stripeNormalizerFromEnv({ STRIPE_LIVEMODE: 'false' }),
      wechatpay: () => {
        throw new Error('no WeChat Pay event in this test');
      },
    },
    logger,
    metrics,
  });
}

async function sendByEventBridge(event: StripeEventJson): Promise<void> {
  await queues.client.send(
    new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: eventBridgeMessage(event) }),
  );
}

async function sendByWebhook(event: StripeEventJson): Promise<void> {
  const webhook = createStripeWebhookHandler(
    { QUEUE_URL: queues.queueUrl, SQS_ENDPOINT: queues.endpoint, STRIPE_WEBHOOK_SECRETS: secret },
    { logger, metrics: new MemoryMetrics() },
  );
  const answer = await webhook(webhookRequest(event));
  expect(answer.statusCode).toBe(200);
}

async function deliver(metrics: MemoryMetrics): Promise<void> {
  const records = await drain();
  expect(records.length).toBeGreaterThan(0);
  const result = await consumer(metrics)({ Records: records } as SQSEvent);
  expect(result.batchItemFailures).toEqual([]);
}

const inbox = (eventIds: string[]) =>
  db.sql<{ event_id: string; event_type: string; account: string; raw_payload: string }[]>`
    select event_id, event_type, account, raw_payload from inbox_events
    where provider = 'stripe' and event_id in ${db.sql(eventIds)} order by event_id`;

describe('Stripe over EventBridge', () => {
  const scenario = buildStripeScenario({ seed: 41, payments: 2 });
  const paymentEvents = scenario.events.filter((e) => e.type.startsWith('payment_intent.'));
  const [first, second] = [paymentEvents[0]!, paymentEvents[1]!];

  it('turns the EventBridge event into the envelope the webhook builds, marked with its source', () => {
    const fromBus = decodeQueueMessage(eventBridgeMessage(first));
    expect(fromBus).toMatchObject({
      v: 1,
      provider: 'stripe',
      eventId: first.id,
      eventType: first.type,
      account: first.account ?? '',
      occurredAt: new Date(first.created * 1000).toISOString(),
      source: 'eventbridge',
    });
    expect(JSON.parse(fromBus.rawBody)).toEqual(first);
  });

  it('applies an event that arrives by EventBridge, and the same event by webhook afterwards is a duplicate', async () => {
    const metrics = new MemoryMetrics();
    await sendByEventBridge(first);
    await deliver(metrics);
    expect(metrics.total('EventApplied')).toBe(1);
    const afterBus = await inbox([first.id]);
    expect(afterBus).toHaveLength(1);
    expect(JSON.parse(afterBus[0]!.raw_payload)).toEqual(first);

    await sendByWebhook(first);
    await deliver(metrics);
    expect(metrics.total('EventDuplicate')).toBe(1);
    expect(await inbox([first.id])).toEqual(afterBus);
  });

  it('deduplicates the other way round too: webhook first, EventBridge second', async () => {
    const metrics = new MemoryMetrics();
    await sendByWebhook(second);
    await deliver(metrics);
    const afterWebhook = await inbox([second.id]);
    expect(afterWebhook).toHaveLength(1);
    await sendByEventBridge(second);
    await sendByEventBridge(second); // EventBridge delivers at least once, too
    await deliver(metrics);
    expect(metrics.total('EventDuplicate')).toBe(2);
    expect(await inbox([second.id])).toEqual(afterWebhook);
  });

  it('reaches the same ledger state by either path for a whole payment history', async () => {
    // Each payment's events by one path, chosen alternately; then every event again by the other path.
    const rest = scenario.events.filter((e) => e !== first && e !== second);
    const metrics = new MemoryMetrics();
    for (const [i, event] of rest.entries())
      await (i % 2 === 0 ? sendByEventBridge(event) : sendByWebhook(event));
    await deliver(metrics);
    for (const [i, event] of rest.entries())
      await (i % 2 === 0 ? sendByWebhook(event) : sendByEventBridge(event));
    await deliver(metrics);
    expect(metrics.total('EventFailed')).toBe(0);
    const stored = await db.sql<{ n: number }[]>`
      select count(*)::int as n from inbox_events where provider = 'stripe'`;
    expect(stored[0]!.n).toBe(scenario.events.length);
    const payments = await db.sql<{ provider_payment_id: string; status: string; amount_minor: bigint }[]>`
      select provider_payment_id, status, amount_minor from payments where provider = 'stripe'`;
    for (const [id, expected] of scenario.expected.payments) {
      const row = payments.find((p) => p.provider_payment_id === id);
      expect(row, id).toBeDefined();
      expect(row!.status).toBe(expected.status);
      expect(BigInt(row!.amount_minor)).toBe(expected.amountMinor);
    }
  });

  it('refuses an EventBridge event that is not from a Stripe partner source, or whose detail is no Stripe event', () => {
    const foreign = JSON.parse(eventBridgeMessage(first));
    foreign.source = 'aws.partner/example.com/other';
    expect(() => decodeQueueMessage(JSON.stringify(foreign))).toThrow(
      /not from a Stripe partner event source/,
    );
    const noEvent = JSON.parse(eventBridgeMessage(first));
    noEvent.detail = { id: 'not-an-event' };
    expect(() => envelopeFromStripeEventBridge(noEvent)).toThrow(/evt_/);
    expect(() => decodeQueueMessage('{"hello":1}')).toThrow(/not a v1 envelope/);
  });
});
