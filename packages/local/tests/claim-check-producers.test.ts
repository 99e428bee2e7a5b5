// Claim check for the producers other than ingress, on real parts: provider sandbox → backfill / sweep → folder
// store + SQS emulator (1 MiB messages) → poller → consumer container → Postgres. A 1.5 MiB Stripe event found by
// backfill and a WeChat Pay notification of over 1 MiB rebuilt by the sweep reach the ledger, and their objects are
// removed after apply; a copy of a reference whose object is gone is a duplicate (its event is in the inbox); a
// reference to a missing object of a new event goes to the DLQ with CLAIM_CHECK_MISSING.
import crypto from 'node:crypto';
import { access, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { backfillStripe } from '@payhooks/core/backfill/stripe';
import { MAX_QUEUE_MESSAGE_BYTES } from '@payhooks/core/envelope';
import type { Queue } from '@payhooks/core/ports';
import { StripeClient } from '@payhooks/core/providers/stripe';
import { parseMerchants } from '@payhooks/core/providers/wechatpay';
import { createSqsQueue } from '@payhooks/functions/adapters/sqs';
import { healersFor, sweepPendingOrders } from '@payhooks/functions/sweep-wechatpay';
import {
  type ProviderSandbox,
  randomStripeSecretKey,
  sandboxMerchantsFromGenerated,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { buildStripeScenario, randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { generateSandboxMerchants, writeMerchantsFile } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../src/stack.ts';
import { expectDeadLetters } from './helpers/dead-letters.ts';

const MIB = 1024 * 1024;
const apiKey = randomStripeSecretKey();
let db: TestDatabase;
let stack: LocalStack;
let sandbox: ProviderSandbox;
let generated: Awaited<ReturnType<typeof generateSandboxMerchants>>;

beforeAll(async () => {
  db = await createTestDatabase();
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-claim-producers-'));
  generated = await generateSandboxMerchants();
  stack = await startLocalStack({
    stateDir,
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: [randomWebhookSecret()],
    wechatpayMerchantsFile: await writeMerchantsFile(
      path.join(stateDir, 'merchants.json'),
      generated.document,
    ),
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: 2,
    consumerConcurrency: 1,
  });
  sandbox = await startProviderSandbox({
    stripe: { apiKey },
    wechatpay: { merchants: sandboxMerchantsFromGenerated(generated) },
  });
});
afterAll(async () => {
  await sandbox?.stop();
  await stack?.stop();
  await db?.drop();
});

/** The real queue, remembering what was sent (the test re-sends a reference as SQS would redeliver it). */
function recording(queue: Queue): Queue & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    send: async (body) => {
      sent.push(body);
      return queue.send(body);
    },
  };
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );
const objectFile = (key: string) => stack.claims.pathOf(key);
const sha256 = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

async function inboxRow(eventId: string) {
  const rows = await stack.sql<{ id: string; outcome: string; raw_payload: string; applied_at: Date }[]>`
    select id, outcome, raw_payload, applied_at from inbox_events where event_id = ${eventId}`;
  return rows;
}

describe('claim check for backfill and the sweep, through the local runtime', () => {
  let stripeReference = '';
  let stripeEventId = '';

  it('backfills a 1.5 MiB Stripe event by claim check into the ledger, and removes its object after apply', async () => {
    const now = new Date();
    const [succeeded] = buildStripeScenario({
      seed: 91,
      payments: 1,
      startTime: Math.floor(now.getTime() / 1000) - 600,
    }).events.filter((e) => e.type === 'payment_intent.succeeded');
    stripeEventId = 'evt_claimcheck_backfill15m';
    const event = {
      ...succeeded!,
      id: stripeEventId,
      data: { object: { ...succeeded!.data.object, description: 'x'.repeat(1.5 * MIB) } },
    };
    sandbox.stripe!.addEvents([event]);
    const queue = recording(createSqsQueue(stack.queues.client, stack.queues.queueUrl));
    const client = new StripeClient({ apiKey, apiBaseUrl: sandbox.url, filesBaseUrl: sandbox.url });

    const result = await backfillStripe({
      source: client,
      queue,
      claims: stack.claims,
      since: new Date(now.getTime() - 3600_000),
      now,
    });
    expect(result).toMatchObject({ seen: 1, enqueued: 1 });
    // What went to the queue is a reference that fits a message, not the body.
    stripeReference = queue.sent[0]!;
    expect(Buffer.byteLength(stripeReference)).toBeLessThan(4096);
    const { claim } = JSON.parse(stripeReference) as { claim: { key: string; bytes: number } };
    expect(claim.bytes).toBeGreaterThan(MAX_QUEUE_MESSAGE_BYTES);
    await stack.drain();

    const [inbox] = await inboxRow(stripeEventId);
    expect(inbox?.outcome).toBe('applied');
    expect(sha256(inbox!.raw_payload)).toBe(claim.key.split('/').pop());
    const object = succeeded!.data.object as { id: string };
    const [payment] = await stack.sql<{ status: string; last_event_id: string }[]>`
      select status, last_event_id from payments where provider = 'stripe' and provider_payment_id = ${object.id}`;
    expect(payment).toEqual({ status: 'succeeded', last_event_id: stripeEventId });
    expect(await exists(objectFile(claim.key))).toBe(false);
  });

  it('acks a redelivered reference whose object was removed as a duplicate: the ledger and inbox are unchanged', async () => {
    expect(stripeReference).not.toBe('');
    const before = await inboxRow(stripeEventId);
    const failuresBefore = await stack.sql`select 1 from delivery_failures where event_id = ${stripeEventId}`;
    await stack.queues.client.send(
      new SendMessageCommand({ QueueUrl: stack.queues.queueUrl, MessageBody: stripeReference }),
    );
    await stack.drain();
    expect(await inboxRow(stripeEventId)).toEqual(before);
    expect(await stack.sql`select 1 from delivery_failures where event_id = ${stripeEventId}`).toHaveLength(
      failuresBefore.length,
    );
    await expectDeadLetters(stack, []);
  });

  it('sweeps a paid WeChat Pay order whose rebuilt notification exceeds one queue message into the ledger', async () => {
    const [merchant] = generated.merchants;
    const now = new Date();
    sandbox.wechatpay!.addTransaction({
      mchid: merchant!.mchid,
      outTradeNo: 'BIG-ATTACH-1',
      amountFen: 4200,
      successTime: new Date(now.getTime() - 20 * 60_000),
      // Re-encrypted into the notification: its base64 ciphertext makes the envelope over 1 MiB.
      attach: 'a'.repeat(900 * 1024),
      notified: false,
    });
    await stack.sql`insert into merchant_orders (provider, merchant_order_no, amount_minor, currency, account, created_at)
      values ('wechatpay', 'BIG-ATTACH-1', 4200, 'CNY', ${merchant!.mchid}, ${new Date(now.getTime() - 30 * 60_000)})`;
    const queue = recording(createSqsQueue(stack.queues.client, stack.queues.queueUrl));

    const result = await sweepPendingOrders({
      sql: stack.sql,
      queue,
      claims: stack.claims,
      healerFor: healersFor(parseMerchants(generated.document), { baseUrl: sandbox.url }),
      clock: { now: () => now },
      pendingMinutes: 10,
      lookbackHours: 24,
    });
    expect(result).toEqual({ checked: 1, enqueued: 1, stillPending: 0, errors: [] });
    const reference = JSON.parse(queue.sent[0]!) as {
      eventId: string;
      claim?: { key: string; bytes: number };
    };
    expect(reference.claim?.bytes).toBeGreaterThan(MAX_QUEUE_MESSAGE_BYTES);
    await stack.drain();

    const [payment] = await stack.sql<{ status: string; amount_minor: bigint }[]>`
      select status, amount_minor from payments where provider = 'wechatpay' and merchant_order_no = 'BIG-ATTACH-1'`;
    expect(payment).toEqual({ status: 'succeeded', amount_minor: 4200n });
    const [inbox] = await inboxRow(reference.eventId);
    expect(inbox?.outcome).toBe('applied');
    expect(inbox?.raw_payload).not.toContain('BIG-ATTACH-1'); // still encrypted, as a notification
    expect(await exists(objectFile(reference.claim!.key))).toBe(false);
  });

  it('fails a reference to a missing object of a new event into the DLQ with CLAIM_CHECK_MISSING, booking nothing', async () => {
    const digest = sha256('an object that was never written');
    const reference = JSON.stringify({
      v: 1,
      claim: { key: `claim-check/stripe/${digest}`, sha256: digest, bytes: 2 * MIB },
      provider: 'stripe',
      eventId: 'evt_claimcheck_missing',
      eventType: 'payment_intent.succeeded',
      account: '',
      occurredAt: new Date().toISOString(),
      receivedAt: new Date().toISOString(),
    });
    await stack.queues.client.send(
      new SendMessageCommand({ QueueUrl: stack.queues.queueUrl, MessageBody: reference }),
    );
    await stack.drain();

    await expectDeadLetters(stack, ['evt_claimcheck_missing']);
    expect(await inboxRow('evt_claimcheck_missing')).toHaveLength(0);
    const reasons = await stack.sql<{ error_code: string; provider: string }[]>`
      select error_code, provider from delivery_failures where event_id = 'evt_claimcheck_missing'`;
    expect(reasons.length).toBeGreaterThanOrEqual(1);
    expect(new Set(reasons.map((r) => r.error_code))).toEqual(new Set(['CLAIM_CHECK_MISSING']));
  });
});
