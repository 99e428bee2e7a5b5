// End to end on real parts: HTTP gateway → Stripe handler → SQS emulator → poller → consumer → Postgres.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  buildStripeScenario,
  prng,
  randomWebhookSecret,
  type StripeScenario,
} from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  type DeliveryResult,
  planStripeDeliveries,
  sendDeliveries,
  signStripePayload,
} from '@payhooks/testkit/sandbox/stripe-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStripeLedger } from '../src/check.ts';
import { type LocalStack, startLocalStack } from '../src/stack.ts';

const secrets = [randomWebhookSecret(), randomWebhookSecret()] as const;
let db: TestDatabase;
let stack: LocalStack;
let scenario: StripeScenario;
let results: DeliveryResult[];

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startLocalStack({
    stateDir: await mkdtemp(path.join(os.tmpdir(), 'payhooks-e2e-')),
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: [...secrets],
    consumerConcurrency: 3,
  });
  const main = buildStripeScenario({ seed: 42, payments: 30 });
  const connect = buildStripeScenario({ seed: 43, payments: 3, account: 'acct_1Connected' });
  scenario = { events: [...main.events, ...connect.events], expected: main.expected };
  for (const key of ['payments', 'refunds', 'disputes', 'mirror'] as const) {
    for (const [id, value] of connect.expected[key])
      (scenario.expected[key] as Map<string, unknown>).set(id, value);
  }
  const deliveries = planStripeDeliveries(scenario, {
    secrets,
    random: prng(1),
    duplicateRate: 0.3,
    forgeries: true,
    now: Math.floor(Date.now() / 1000),
  });
  results = await sendDeliveries(stack.gatewayUrl, deliveries, 8);
  await stack.drain();
});

afterAll(async () => {
  await stack?.stop();
  await db?.drop();
});

describe('Stripe end to end', () => {
  it('answers genuine, rotated and duplicate deliveries 200, an oversize forgery 413 and every other forgery 400', () => {
    for (const result of results) {
      expect(result.status, `${result.kind} ${result.eventId}`).toBe(
        result.kind === 'forged-oversize' ? 413 : result.kind.startsWith('forged') ? 400 : 200,
      );
    }
    expect(results.filter((r) => r.kind === 'rotated-secret').length).toBeGreaterThan(0);
    expect(results.filter((r) => r.kind === 'duplicate').length).toBeGreaterThan(0);
  });

  it('holds exactly the scenario in the ledger: each event once, final states as predicted', async () => {
    const check = await checkStripeLedger(stack.sql, scenario, results);
    expect(check.problems).toEqual([]);
    const [row] = await stack.sql<{ count: bigint }[]>`select count(*)::int8 as count from inbox_events`;
    expect(Number(row?.count)).toBe(scenario.events.length);
  });

  it('absorbs every duplicate delivery at the inbox', async () => {
    // Duplicates are counted from what the ingress answered; SQS may deliver each queued message more than once
    // (a batch outliving its visibility timeout under load), so consumer outcome counts are only lower bounds.
    const accepted = results.filter((r) => r.status === 200);
    const acceptedIds = new Set(accepted.map((r) => r.eventId));
    const duplicateDeliveries = accepted.length - acceptedIds.size;
    expect(acceptedIds.size).toBe(scenario.events.length);
    expect(duplicateDeliveries).toBeGreaterThan(0);
    expect(stack.metrics.ingress.total('CallbackAccepted')).toBe(accepted.length);
    const rows = await stack.sql<{ event_id: string; rows: number }[]>`
      select event_id, count(*)::int as rows from inbox_events
      where provider = 'stripe' and event_id in ${stack.sql([...acceptedIds])} group by event_id`;
    expect(new Map(rows.map((r) => [r.event_id, r.rows]))).toEqual(
      new Map([...acceptedIds].map((id) => [id, 1])),
    );
    // Applied once per event whatever the deliveries; every duplicate delivery met the inbox at least once.
    expect(stack.metrics.consumer.total('EventApplied')).toBe(rows.length);
    expect(stack.metrics.consumer.total('EventDuplicate')).toBeGreaterThanOrEqual(duplicateDeliveries);
  });

  it('keeps forged events out of the ledger entirely', async () => {
    const forged = results.filter((r) => r.kind.startsWith('forged')).map((r) => r.eventId);
    expect(forged.length).toBeGreaterThanOrEqual(7);
    const found = await stack.sql`select event_id from inbox_events where event_id in ${stack.sql(forged)}`;
    expect(found).toEqual([]);
  });

  it('stores the raw body byte for byte and records the API version and Connect account', async () => {
    const event = scenario.events.find((e) => e.account === 'acct_1Connected')!;
    const [row] = await stack.sql<{ raw_payload: string; api_version: string; account: string }[]>`
      select raw_payload, api_version, account from inbox_events where event_id = ${event.id}`;
    expect(row!.raw_payload).toBe(JSON.stringify(event, null, 2));
    expect(row!.api_version).toBe(event.api_version);
    expect(row!.account).toBe('acct_1Connected');
  });

  it('stores unknown event types with outcome "stored"', async () => {
    const rows = await stack.sql<
      { outcome: string }[]
    >`select outcome from inbox_events where event_type = 'product.created'`;
    expect(rows.map((r) => r.outcome)).toEqual(['stored', 'stored']);
  });

  // The path names a configured Stripe account (docs/decisions.md "Stripe accounts by path"); acct_1Other is
  // none, so the answer is the wrong-signature one — it does not tell which account ids exist.
  it('rejects a validly signed event on an unconfigured account path like a wrong signature', async () => {
    const event = scenario.events.find((e) => e.account === 'acct_1Connected')!;
    const body = JSON.stringify({ ...event, id: 'evt_wrongaccount' });
    const response = await fetch(`${stack.gatewayUrl}/webhooks/stripe/acct_1Other`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': signStripePayload(body, [secrets[0]], Math.floor(Date.now() / 1000)),
      },
      body,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'STRIPE_SIGNATURE_MISMATCH',
      message: 'no v1 signature matches any configured endpoint secret',
    });
  });

  it('accepts a body sent as binary (base64 through the gateway)', async () => {
    const body = JSON.stringify({ ...scenario.events[0]!, id: 'evt_binarybody' });
    const response = await fetch(`${stack.gatewayUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'stripe-signature': signStripePayload(body, [secrets[1]], Math.floor(Date.now() / 1000)),
      },
      body,
    });
    expect(response.status).toBe(200);
    await stack.drain();
    const rows = await stack.sql`select raw_payload from inbox_events where event_id = 'evt_binarybody'`;
    expect(rows[0]?.raw_payload).toBe(body);
  });
});
