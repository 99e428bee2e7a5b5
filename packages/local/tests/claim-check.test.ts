// The claim check on real parts: gateway → Stripe handler → folder store + SQS emulator (1 MiB messages, as
// deployed) → poller → consumer container → Postgres. A 1.1 MiB event, beyond one queue message, is stored as
// an object, applied from it and removed after apply; one that fits goes inline; a reference
// whose object does not match its hash fails into the DLQ with its reason and books nothing; above MAX_BODY_BYTES
// the answer is 413.
import crypto from 'node:crypto';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { MAX_QUEUE_MESSAGE_BYTES } from '@payhooks/core/envelope';
import {
  buildStripeScenario,
  randomWebhookSecret,
  type StripeEventJson,
} from '@payhooks/testkit/sandbox/stripe-scenario';
import { sendDeliveries, signStripePayload } from '@payhooks/testkit/sandbox/stripe-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../src/stack.ts';
import { expectDeadLetters } from './helpers/dead-letters.ts';

const secret = randomWebhookSecret();
const KIB_600 = 600 * 1024;
const KIB_1100 = 1100 * 1024;
let db: TestDatabase;
let stack: LocalStack;
let stateDir: string;
let succeeded: StripeEventJson[];

beforeAll(async () => {
  db = await createTestDatabase();
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-claim-check-'));
  stack = await startLocalStack({
    stateDir,
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: [secret],
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 2,
    batchSize: 10,
    consumerConcurrency: 1,
  });
  succeeded = buildStripeScenario({ seed: 77, payments: 6 }).events.filter(
    (e) => e.type === 'payment_intent.succeeded',
  );
});
afterAll(async () => {
  await stack?.stop();
  await db?.drop();
});

/** The event with a description that pads its body to at least `bytes`: `unit` repeated (quotes escape twice). */
function padded(event: StripeEventJson, id: string, bytes: number, unit: string): string {
  const base = JSON.stringify({ ...event, id, data: { object: { ...event.data.object, description: '' } } });
  const unitBytes = Buffer.byteLength(JSON.stringify(unit)) - 2;
  const description = unit.repeat(Math.ceil((bytes - Buffer.byteLength(base)) / unitBytes));
  return JSON.stringify({ ...event, id, data: { object: { ...event.data.object, description } } });
}

async function deliver(id: string, body: string): Promise<number> {
  const [result] = await sendDeliveries(
    stack.gatewayUrl,
    [
      {
        kind: 'genuine',
        eventId: id,
        path: '/webhooks/stripe',
        body,
        signature: signStripePayload(body, [secret], Math.floor(Date.now() / 1000)),
      },
    ],
    1,
  );
  return result!.status;
}

const claimObjects = async () =>
  (await readdir(path.join(stateDir, 'objects', 'claim-check', 'stripe')).catch(() => [])).sort();
const sha256 = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

describe('claim check through the local runtime', () => {
  it('stores a 1.1 MiB event, beyond one queue message, and the consumer applies it from the object', async () => {
    const event = succeeded[0]!;
    // Quotes too: the body holds each as \", which the object keeps exactly.
    const body = padded(event, 'evt_claimcheck1100k', KIB_1100, 'x"');
    expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_QUEUE_MESSAGE_BYTES);

    expect(await deliver('evt_claimcheck1100k', body)).toBe(200);
    await stack.drain();

    // Applied from the object (CallbackClaimChecked below), which the consumer removed after the commit.
    expect(await claimObjects()).toEqual([]);
    const [inbox] = await stack.sql<{ outcome: string; raw_payload: string }[]>`
      select outcome, raw_payload from inbox_events where event_id = 'evt_claimcheck1100k'`;
    expect(inbox?.outcome).toBe('applied');
    expect(inbox?.raw_payload).toBe(body);
    const object = event.data.object as { id: string; amount: number };
    const [payment] = await stack.sql<{ status: string; amount_minor: bigint; last_event_id: string }[]>`
      select status, amount_minor, last_event_id from payments
      where provider = 'stripe' and provider_payment_id = ${object.id}`;
    expect(payment).toMatchObject({ status: 'succeeded', last_event_id: 'evt_claimcheck1100k' });
    expect(stack.metrics.ingress.total('CallbackClaimChecked')).toBe(1);
  });

  it('queues a 600 KiB event inline in one 1 MiB message, without an object, even when escaping would double it', async () => {
    const before = await claimObjects();
    // The body inline is its own text: 600 KiB of quotes, which as an escaped string would pass 1 MiB.
    const body = padded(succeeded[1]!, 'evt_inline600k', KIB_600, '"');
    expect(Buffer.byteLength(JSON.stringify({ rawBody: body }))).toBeGreaterThan(MAX_QUEUE_MESSAGE_BYTES);
    expect(await deliver('evt_inline600k', body)).toBe(200);
    await stack.drain();
    const [inbox] = await stack.sql<{ outcome: string; raw_payload: string }[]>`
      select outcome, raw_payload from inbox_events where event_id = 'evt_inline600k'`;
    expect(inbox).toEqual({ outcome: 'applied', raw_payload: body });
    expect(await claimObjects()).toEqual(before);
  });

  it('fails a reference whose object does not match its hash into the DLQ with CLAIM_CHECK_MISMATCH, booking nothing', async () => {
    const event = succeeded[2]!;
    const body = padded(event, 'evt_tampered', 2048, 'x');
    const digest = sha256(body);
    const key = `claim-check/stripe/${digest}`;
    // The stored object differs from what the reference names (one byte changed, same length).
    await writeFile(
      path.join(stateDir, 'objects', 'claim-check', 'stripe', digest),
      body.replace('"xx', '"xy'),
    );
    const reference = JSON.stringify({
      v: 1,
      claim: { key, sha256: digest, bytes: Buffer.byteLength(body) },
      provider: 'stripe',
      eventId: 'evt_tampered',
      eventType: event.type,
      account: '',
      occurredAt: new Date(event.created * 1000).toISOString(),
      receivedAt: new Date().toISOString(),
    });
    await stack.queues.client.send(
      new SendMessageCommand({ QueueUrl: stack.queues.queueUrl, MessageBody: reference }),
    );
    await stack.drain();

    await expectDeadLetters(stack, ['evt_tampered']);
    const inbox = await stack.sql`select 1 from inbox_events where event_id = 'evt_tampered'`;
    expect(inbox).toHaveLength(0);
    const object = event.data.object as { id: string };
    const payment = await stack.sql`
      select 1 from payments where provider = 'stripe' and provider_payment_id = ${object.id}`;
    expect(payment).toHaveLength(0);
    const reasons = await stack.sql<{ error_code: string; event_id: string; provider: string }[]>`
      select error_code, event_id, provider from delivery_failures where event_id = 'evt_tampered'`;
    expect(reasons.length).toBeGreaterThanOrEqual(2);
    expect(new Set(reasons.map((r) => r.error_code))).toEqual(new Set(['CLAIM_CHECK_MISMATCH']));
    expect(reasons[0]).toMatchObject({ provider: 'stripe', event_id: 'evt_tampered' });
  });

  it('answers 413 above MAX_BODY_BYTES (2 MiB), queues nothing and stores nothing', async () => {
    const before = await claimObjects();
    const body = padded(succeeded[3]!, 'evt_toolarge', 2 * 1024 * 1024 + 1, 'x');
    expect(await deliver('evt_toolarge', body)).toBe(413);
    await stack.drain();
    expect(await stack.sql`select 1 from inbox_events where event_id = 'evt_toolarge'`).toHaveLength(0);
    expect(await claimObjects()).toEqual(before);
  });
});
