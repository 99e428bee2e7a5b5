// Equal-rank ties end at Stripe's truth: two customer.updated in the same second reach the ledger through the
// local gateway, the mirror cannot order them, the revalidator retrieves the customer from the provider sandbox
// and sends it through the normal queue path; the mirror ends at what Stripe holds and the row records it.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { revalidateStripeObjects } from '@payhooks/core/backfill/revalidate-stripe';
import { systemClock } from '@payhooks/core/ports';
import { createSqsQueue } from '@payhooks/functions/adapters/sqs';
import { stripeRevalidationDeps } from '@payhooks/functions/wiring/revalidate';
import {
  type ProviderSandbox,
  randomStripeSecretKey,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { signStripePayload } from '@payhooks/testkit/sandbox/stripe-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../src/stack.ts';

let db: TestDatabase;
let stack: LocalStack;
let sandbox: ProviderSandbox;
const apiKey = randomStripeSecretKey();
const webhookSecret = randomWebhookSecret();

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startLocalStack({
    stateDir: await mkdtemp(path.join(os.tmpdir(), 'payhooks-revalidate-')),
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: [webhookSecret],
  });
  sandbox = await startProviderSandbox({ stripe: { apiKey } });
});
afterAll(async () => {
  await sandbox?.stop();
  await stack?.stop();
  await db?.drop();
});

function customerUpdated(id: string, created: number, name: string) {
  return {
    id,
    object: 'event',
    api_version: '2025-03-31.basil',
    created,
    type: 'customer.updated',
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object: { id: 'cus_tie', object: 'customer', name, email: null, livemode: false, created } },
  };
}

async function post(event: Record<string, unknown>): Promise<number> {
  const body = JSON.stringify(event);
  const response = await fetch(`${stack.gatewayUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': signStripePayload(body, [webhookSecret], Math.floor(Date.now() / 1000)),
    },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

const mirroredName = async () =>
  (
    await stack.sql<
      { name: string }[]
    >`select data->>'name' as name from stripe.customers where id = 'cus_tie'`
  )[0]?.name;

describe('revalidation of equal-rank ties (Stripe)', () => {
  it('converges the mirror to the object Stripe holds, through the queue, and records that it did', async () => {
    const created = Math.floor(Date.now() / 1000) - 60;
    expect(await post(customerUpdated('evt_tie_a', created, 'first'))).toBe(200);
    await stack.drain();
    expect(await post(customerUpdated('evt_tie_b', created, 'second'))).toBe(200);
    await stack.drain();
    const [tie] = await stack.sql<{ state: string; tied_event_ids: string[] }[]>`
      select state, tied_event_ids from object_revalidations where object_id = 'cus_tie'`;
    expect(tie?.state).toBe('pending');
    expect([...tie!.tied_event_ids].sort()).toEqual(['evt_tie_a', 'evt_tie_b']);

    // What Stripe holds now is neither notified version.
    sandbox.stripe!.setObject({
      id: 'cus_tie',
      object: 'customer',
      name: 'truth',
      email: null,
      livemode: false,
    });
    const deps = stripeRevalidationDeps({
      sql: stack.sql,
      queue: createSqsQueue(stack.queues.client, stack.queues.queueUrl),
      api: { apiKey, baseUrl: sandbox.url },
      clock: systemClock,
    });
    expect(await revalidateStripeObjects(deps)).toEqual({ claimed: 1, enqueued: 1, failed: [] });
    await stack.drain();

    expect(await mirroredName()).toBe('truth');
    const [done] = await stack.sql<{ synthetic_event_id: string; outcome: string }[]>`
      select r.synthetic_event_id, i.outcome from object_revalidations r
      join inbox_events i on i.provider = 'stripe' and i.event_id = r.synthetic_event_id
      where r.object_id = 'cus_tie'`;
    expect(done).toMatchObject({ outcome: 'applied' });
    expect(done!.synthetic_event_id).toMatch(/^evt_heal_/);
    // Rate limited: nothing is due again right after.
    expect(await revalidateStripeObjects(deps)).toEqual({ claimed: 0, enqueued: 0, failed: [] });
  });

  it('records a failed retrieval with its code and backs off', async () => {
    await stack.sql`insert into object_revalidations (provider, object_type, object_id, tied_event_ids)
      values ('stripe', 'customer', 'cus_gone', array['evt_1', 'evt_2'])`;
    const deps = stripeRevalidationDeps({
      sql: stack.sql,
      queue: createSqsQueue(stack.queues.client, stack.queues.queueUrl),
      api: { apiKey, baseUrl: sandbox.url },
    });
    const result = await revalidateStripeObjects(deps);
    expect(result.failed).toEqual([
      { objectType: 'customer', objectId: 'cus_gone', code: expect.any(String) },
    ]);
    const [row] = await stack.sql<{ state: string; last_error: string; later: boolean }[]>`
      select state, last_error, not_before > now() as later from object_revalidations where object_id = 'cus_gone'`;
    expect(row).toEqual({ state: 'failed', last_error: result.failed[0]!.code, later: true });
  });
});
