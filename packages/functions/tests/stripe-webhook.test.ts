// The Lambda handler module on an API Gateway v2 event, against the real SQS emulator.
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { decodeEnvelope } from '@payhooks/core/envelope';
import { createLogger } from '@payhooks/core/logger';
import { type LocalQueues, startLocalQueues } from '@payhooks/local/sqs';
import { randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { signStripePayload } from '@payhooks/testkit/sandbox/stripe-sender';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../src/adapters/metrics.ts';
import { createStripeWebhookHandler } from '../src/stripe-webhook.ts';

const secret = randomWebhookSecret();
let queues: LocalQueues;
beforeAll(async () => {
  queues = await startLocalQueues({ visibilityTimeoutSeconds: 30, maxReceiveCount: 3 });
});
afterAll(async () => queues?.stop());

const logger = createLogger({ name: 'test', destination: pino.destination('/dev/null') });
const body = JSON.stringify({
  id: 'evt_1Handler',
  object: 'event',
  type: 'charge.succeeded',
  created: Math.floor(Date.now() / 1000),
  data: { object: { object: 'charge' } },
});
const apiEvent = (overrides: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: 'POST /webhooks/stripe',
    rawPath: '/webhooks/stripe',
    rawQueryString: '',
    headers: {
      'Stripe-Signature': signStripePayload(body, [secret], Math.floor(Date.now() / 1000)),
      'content-type': 'application/json',
    },
    body,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1' },
    ...overrides,
  }) as APIGatewayProxyEventV2;

describe('stripe-webhook handler', () => {
  it('enqueues a verified event as a v1 envelope and answers 200', async () => {
    const metrics = new MemoryMetrics();
    const handler = createStripeWebhookHandler(
      {
        QUEUE_URL: queues.queueUrl,
        SQS_ENDPOINT: queues.endpoint,
        STRIPE_WEBHOOK_SECRETS: `whsec_other,${secret}`,
      },
      { logger, metrics },
    );
    const result = await handler(
      apiEvent({ body: Buffer.from(body).toString('base64'), isBase64Encoded: true }),
    );
    expect(result.statusCode).toBe(200);
    const received = await queues.client.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(received.Messages).toHaveLength(1);
    const envelope = decodeEnvelope(received.Messages![0]!.Body!);
    expect(envelope).toMatchObject({
      v: 1,
      provider: 'stripe',
      eventId: 'evt_1Handler',
      eventType: 'charge.succeeded',
      rawBody: body,
    });
    expect(metrics.total('CallbackRotatedSecret')).toBe(1);
  });

  it('answers 503 and acknowledges nothing when the queue is unreachable', async () => {
    const metrics = new MemoryMetrics();
    const handler = createStripeWebhookHandler(
      {
        QUEUE_URL: 'http://127.0.0.1:9/000000000000/gone',
        SQS_ENDPOINT: 'http://127.0.0.1:9',
        STRIPE_WEBHOOK_SECRETS: secret,
      },
      { logger, metrics },
    );
    const result = await handler(apiEvent());
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body as string)).toMatchObject({ error: 'ENQUEUE_FAILED' });
    expect(metrics.total('CallbackEnqueueFailed')).toBe(1);
    expect(metrics.total('CallbackAccepted')).toBe(0);
  });

  it('answers 400 without touching the queue for a forged event', async () => {
    const handler = createStripeWebhookHandler(
      {
        QUEUE_URL: 'http://127.0.0.1:9/none',
        SQS_ENDPOINT: 'http://127.0.0.1:9',
        STRIPE_WEBHOOK_SECRETS: secret,
      },
      { logger, metrics: new MemoryMetrics() },
    );
    const result = await handler(
      apiEvent({
        headers: {
          'stripe-signature': signStripePayload(body, ['whsec_wrong'], Math.floor(Date.now() / 1000)),
        },
      }),
    );
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body as string)).toEqual({
      error: 'STRIPE_SIGNATURE_MISMATCH',
      message: expect.any(String),
    });
  });

  it('fails the cold start loudly when no secret is configured', async () => {
    const handler = createStripeWebhookHandler(
      { QUEUE_URL: queues.queueUrl, SQS_ENDPOINT: queues.endpoint },
      { logger, metrics: new MemoryMetrics() },
    );
    await expect(handler(apiEvent())).rejects.toThrow(/STRIPE_WEBHOOK_SECRETS/);
  });
});

describe('stripe-webhook handler: queue message size', () => {
  it('answers 413 when the envelope would not fit one queue message and no claim-check store is configured, and enqueues nothing', async () => {
    const metrics = new MemoryMetrics();
    const handler = createStripeWebhookHandler(
      {
        QUEUE_URL: 'http://127.0.0.1:9/000000000000/unused',
        SQS_ENDPOINT: 'http://127.0.0.1:9',
        STRIPE_WEBHOOK_SECRETS: secret,
      },
      { logger, metrics },
    );
    // 1.1 MB: under the 2 MiB body limit, over one 1 MiB queue message.
    const heavy = JSON.stringify({
      id: 'evt_1Heavy',
      object: 'event',
      type: 'charge.succeeded',
      created: Math.floor(Date.now() / 1000),
      data: { object: { object: 'charge', description: 'x'.repeat(1_100_000) } },
    });
    const result = await handler(
      apiEvent({
        body: heavy,
        headers: { 'stripe-signature': signStripePayload(heavy, [secret], Math.floor(Date.now() / 1000)) },
      }),
    );
    expect(result.statusCode).toBe(413);
    expect(JSON.parse(result.body as string)).toMatchObject({ error: 'ENVELOPE_TOO_LARGE' });
    expect(metrics.total('CallbackEnqueueFailed')).toBe(0);
    expect(metrics.total('CallbackAccepted')).toBe(0);
  });
});
