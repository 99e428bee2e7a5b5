// Removal after apply under at-least-once delivery: any number of copies of one claim-checked message, split into
// batches at arbitrary boundaries and consumed by two containers at once (one connection each), are all
// acknowledged — applied once, every other copy a duplicate whether it still found the object or came after the
// removal — and leave exactly one inbox row and no object behind. Real PostgreSQL, the real folder store, the
// shipped consumer with the real Stripe normalizer.
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sendClaimChecked } from '@payhooks/core/envelope';
import { createSql, type Sql } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import { parseMerchants } from '@payhooks/core/providers/wechatpay';
import { createFolderStore } from '@payhooks/local/folder-store';
import { buildStripeScenario } from '@payhooks/testkit/sandbox/stripe-scenario';
import { generateSandboxMerchants } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import type { SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../src/adapters/metrics.ts';
import { createConsumer, type SqsHandler } from '../src/consumer.ts';
import { stripeNormalizer, wechatpayNormalizer } from '../src/wiring/normalizers.ts';

let db: TestDatabase;
let store: ReturnType<typeof createFolderStore>;
let containers: SqsHandler[];
let connections: Sql[];
beforeAll(async () => {
  const [database, merchants, dir] = await Promise.all([
    createTestDatabase(),
    generateSandboxMerchants(),
    mkdtemp(path.join(os.tmpdir(), 'payhooks-claim-consumer-')),
  ]);
  db = database;
  store = createFolderStore(dir);
  const logger = createLogger({ name: 'test', destination: pino.destination('/dev/null') });
  connections = Array.from({ length: 2 }, () => createSql({ url: db.url, max: 1 }));
  containers = connections.map((sql) =>
    createConsumer({
      sql,
      normalizers: {
        stripe: stripeNormalizer({ orderMetadataKey: 'order_id' }),
        wechatpay: wechatpayNormalizer(parseMerchants(merchants.document)),
      },
      logger,
      metrics: new MemoryMetrics(),
      claims: store,
    }),
  );
});
afterAll(async () => {
  await Promise.all((connections ?? []).map((sql) => sql.end()));
  await db?.drop();
});

const [template] = buildStripeScenario({ seed: 5, payments: 1 }).events.filter(
  (e) => e.type === 'payment_intent.succeeded',
);

/** A fresh claim-checked Stripe event: its object written, its reference message returned. */
async function claimChecked(): Promise<{ eventId: string; reference: string; key: string }> {
  const eventId = `evt_${randomUUID().replaceAll('-', '')}`;
  const object = { ...template!.data.object, id: `pi_${randomUUID().replaceAll('-', '')}` };
  const rawBody = JSON.stringify({ ...template!, id: eventId, data: { object } });
  let reference = '';
  const { claim } = await sendClaimChecked(
    {
      v: 1,
      provider: 'stripe',
      eventId,
      eventType: template!.type,
      account: '',
      occurredAt: new Date(template!.created * 1000).toISOString(),
      receivedAt: new Date().toISOString(),
      rawBody,
    },
    {
      claims: store,
      queue: {
        send: async (body) => {
          reference = body;
          return { messageId: 'sent' };
        },
      },
    },
  );
  return { eventId, reference, key: claim.key };
}

const sqsEvent = (bodies: string[]): SQSEvent => ({
  Records: bodies.map((body) => ({
    messageId: randomUUID(),
    receiptHandle: 'r',
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
    awsRegion: 'us-east-1',
  })),
});

describe('claim-check removal after apply, under redelivery', () => {
  it('acknowledges every copy, applies the event once and leaves no object', async () => {
    await fc.assert(
      fc.asyncProperty(
        // copies per invocation, for each of the two containers' sequential invocations
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 }),
        async (first, second) => {
          const { eventId, reference, key } = await claimChecked();
          const run = async (container: SqsHandler, batches: number[]) => {
            const failures: string[] = [];
            for (const size of batches) {
              const response = await container(sqsEvent(Array.from({ length: size }, () => reference)));
              failures.push(...response.batchItemFailures.map((f) => f.itemIdentifier));
            }
            return failures;
          };
          const failed = (
            await Promise.all([run(containers[0]!, first), run(containers[1]!, second)])
          ).flat();
          expect(failed).toEqual([]);
          const inbox = await connections[0]!<{ outcome: string }[]>`
            select outcome from inbox_events where event_id = ${eventId}`;
          expect(inbox).toEqual([{ outcome: 'applied' }]);
          expect(await store.get(key)).toBeUndefined();
          const reasons = await connections[0]!`select 1 from delivery_failures where event_id = ${eventId}`;
          expect(reasons).toHaveLength(0);
        },
      ),
      { numRuns: 12 },
    );
  });
});
