// Correctly signed notifications whose resource cannot be opened pass ingress and must fail in the consumer:
// a flipped ciphertext bit, the wrong APIv3 key, the wrong associated_data, another merchant's mchid. Each goes
// back to the queue, lands in the DLQ after maxReceiveCount, and leaves no trace in the ledger.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encryptResource } from '@payhooks/core/providers/wechatpay';
import { prng } from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  generateSandboxMerchants,
  randomApiv3Key,
  type SandboxMerchants,
  writeMerchantsFile,
} from '@payhooks/testkit/sandbox/wechatpay-merchants';
import {
  WechatpayHistory,
  type WechatpayNotificationSpec,
} from '@payhooks/testkit/sandbox/wechatpay-scenario';
import {
  encodeNotification,
  sendWechatpayDeliveries,
  signNotification,
} from '@payhooks/testkit/sandbox/wechatpay-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../src/stack.ts';
import { expectDeadLetters } from './helpers/dead-letters.ts';
import { sqsBatch, wechatpayConsumer, wechatpayEnvelope } from './helpers/wechatpay.ts';

let sandbox: SandboxMerchants;
beforeAll(async () => {
  sandbox = await generateSandboxMerchants();
});

/** The notification body with its resource re-encrypted by `encrypt` (as an attacker or a misconfiguration would). */
function withResource(spec: WechatpayNotificationSpec, resource: object): string {
  const outer = JSON.parse(encodeNotification(spec, sandbox.merchants[0]!.apiv3Key));
  return JSON.stringify({ ...outer, resource: { original_type: spec.originalType, ...resource } });
}

function flipBit(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[3]! ^= 0x01;
  return bytes.toString('base64');
}

/** Good and broken notifications for merchant 0, all signed correctly. */
function buildCase() {
  const merchant = sandbox.merchants[0]!;
  const h = new WechatpayHistory(prng(11));
  const start = Math.floor(Date.now() / 1000) - 600;
  for (let i = 0; i < 6; i++) h.payment(merchant, `FAULT-${i}`, start + i * 5, { amountMinor: 100 + i });
  const [a, b, c, d, ...good] = h.notifications;
  const plain = (spec: WechatpayNotificationSpec) => JSON.stringify(spec.resource);
  const sealed = encryptResource(plain(a!), merchant.apiv3Key, { associatedData: 'transaction' });
  const bad = new Map<string, string>([
    [a!.id, withResource(a!, { ...sealed, ciphertext: flipBit(sealed.ciphertext) })],
    [
      b!.id,
      withResource(b!, encryptResource(plain(b!), randomApiv3Key(), { associatedData: 'transaction' })),
    ],
    [
      c!.id,
      withResource(c!, {
        ...encryptResource(plain(c!), merchant.apiv3Key, { associatedData: 'certificate' }),
        associated_data: 'transaction',
      }),
    ],
    [
      d!.id,
      encodeNotification({ ...d!, resource: { ...d!.resource, mchid: '1999999999' } }, merchant.apiv3Key),
    ],
  ]);
  const payments = new Map(h.notifications.map((n) => [n.id, n.resource.transaction_id as string]));
  return { merchant, bad, good: good as WechatpayNotificationSpec[], payments };
}

describe('consumer: resources that cannot be opened fail alone', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('reports each broken message as a batch item failure and commits only the good ones', async () => {
    const { merchant, bad, good } = buildCase();
    const { consumer, metrics } = wechatpayConsumer(db.sql, sandbox);
    const badSpecs = [...bad.keys()];
    const bodies = [
      ...good.map((spec) => wechatpayEnvelope(spec, merchant)),
      ...badSpecs.map((id) =>
        JSON.stringify({
          ...JSON.parse(wechatpayEnvelope(good[0]!, merchant)),
          eventId: id,
          rawBody: bad.get(id),
        }),
      ),
      // An envelope naming a merchant that is not configured.
      JSON.stringify({
        ...JSON.parse(wechatpayEnvelope(good[0]!, merchant)),
        eventId: 'EV-nobody',
        account: 'nobody',
      }),
    ];
    const ids = bodies.map((_, i) => `m${i}`);
    const result = await consumer(sqsBatch(bodies, ids));
    // The consumer applies a batch in inbox-key order, so failures come in that order, not arrival order.
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      ids.slice(good.length).sort(),
    );
    const inbox = await db.sql<{ event_id: string }[]>`select event_id from inbox_events order by event_id`;
    expect(inbox.map((r) => r.event_id)).toEqual(good.map((g) => g.id).sort());
    expect(metrics.total('EventFailed')).toBe(badSpecs.length + 1);
  });
});

describe('through the local runtime: → DLQ after maxReceiveCount, never in the ledger', () => {
  let db: TestDatabase;
  let stack: LocalStack;
  beforeAll(async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-wx-faults-'));
    db = await createTestDatabase();
    stack = await startLocalStack({
      stateDir,
      port: 0,
      databaseUrl: db.url,
      stripeWebhookSecrets: ['whsec_unused'],
      wechatpayMerchantsFile: await writeMerchantsFile(
        path.join(stateDir, 'merchants.json'),
        sandbox.document,
      ),
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 2,
      batchSize: 10,
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await db?.drop();
  });

  it('moves every undecryptable or foreign-merchant notification to the DLQ and applies the rest', async () => {
    const { merchant, bad, good, payments } = buildCase();
    const now = Math.floor(Date.now() / 1000);
    const deliveries = [
      ...good.map((spec) => ({ id: spec.id, body: encodeNotification(spec, merchant.apiv3Key) })),
      ...[...bad].map(([id, body]) => ({ id, body })),
    ].map(({ id, body }, i) => ({
      kind: 'genuine' as const,
      eventId: id,
      path: '/webhooks/wechatpay',
      body,
      headers: signNotification(body, merchant.keys[i % 2]!, now),
      expectedStatus: 204,
    }));
    const results = await sendWechatpayDeliveries(stack.gatewayUrl, deliveries, 4);
    expect(results.map((r) => r.status)).toEqual(deliveries.map(() => 204)); // ingress cannot tell: it does not decrypt
    await stack.drain();

    const inbox = await stack.sql<
      { event_id: string }[]
    >`select event_id from inbox_events order by event_id`;
    expect(inbox.map((r) => r.event_id)).toEqual(good.map((g) => g.id).sort());
    await expectDeadLetters(stack, [...bad.keys()]);
    const badPayments = [...bad.keys()].map((id) => payments.get(id)!);
    expect(
      await stack.sql`select 1 from payments where provider_payment_id in ${stack.sql(badPayments)}`,
    ).toEqual([]);
    // Each poison message failed at least once. Not maxReceiveCount times: SQS counts receives, not attempts, and
    // with a 1 s visibility timeout a receive can hand out a copy that a slow first attempt still holds.
    expect(stack.metrics.consumer.total('EventFailed')).toBeGreaterThanOrEqual(bad.size);
  });
});
