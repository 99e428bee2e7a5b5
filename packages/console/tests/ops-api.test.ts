// The operations API on the real local stack (embedded Postgres, the SQS emulator, the gateway, consumer
// containers): event search by event id, object id, merchant order number and time range with keyset paging; an
// event's detail with its ledger rows and the masked raw body; dead letters with the consumer's reasons and a
// replay of exactly the confirmed ids after the cause is fixed (the event then applied in the ledger); queue
// depth; recent rejections; charts; and the role refusals (no session → 401, finance → 403 on every route).
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type ConsoleUser, generateConsoleUsers } from '@payhooks/local/console';
import { type LocalStack, startLocalStack } from '@payhooks/local/stack';
import {
  buildStripeScenario,
  randomWebhookSecret,
  type StripeEventJson,
} from '@payhooks/testkit/sandbox/stripe-scenario';
import { sendDeliveries, signStripePayload } from '@payhooks/testkit/sandbox/stripe-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterList } from '../src/api/ops/dead-letters.ts';
import type { EventDetail, EventPage } from '../src/api/ops/events.ts';

const secret = randomWebhookSecret();
type Role = 'ops' | 'finance' | 'none';
/** The payment the test's database refuses until the cause is fixed (a check constraint standing for a bug). */
const BLOCKED_PI = 'pi_consoleopsblocked';

let db: TestDatabase;
let stack: LocalStack;
let users: ConsoleUser[];
const tokens = new Map<Role, string>();
const scenario = buildStripeScenario({ seed: 1601, payments: 6 });

function blockedEvent(): StripeEventJson {
  const at = Math.floor(Date.now() / 1000) - 60;
  return {
    id: 'evt_consoleopsblocked',
    object: 'event',
    type: 'payment_intent.succeeded',
    created: at,
    api_version: '2026-10-28.endive',
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: {
      object: {
        id: BLOCKED_PI,
        object: 'payment_intent',
        amount: 4200,
        amount_received: 4200,
        currency: 'eur',
        status: 'succeeded',
        created: at,
        metadata: { order_id: 'ORD-BLOCKED-1' },
        receipt_email: 'blocked.payer@example.test',
      },
    },
  } as unknown as StripeEventJson;
}

const deliveriesOf = (events: StripeEventJson[]) => {
  const now = Math.floor(Date.now() / 1000);
  return events.map((event) => {
    const body = JSON.stringify(event);
    return {
      kind: 'genuine' as const,
      eventId: event.id,
      path: '/webhooks/stripe',
      body,
      signature: signStripePayload(body, [secret], now),
    };
  });
};

interface Answer {
  status: number;
  body: unknown;
}

/** A console API call over HTTP through the local gateway's JWT check and the console router. */
async function call(
  method: string,
  pathName: string,
  options: { query?: Record<string, string>; as?: Role | undefined; body?: unknown } = {},
): Promise<Answer> {
  const role = 'as' in options ? options.as : 'ops';
  const url = new URL(`${stack.gatewayUrl}/console/api${pathName}`);
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  const response = await fetch(url, {
    method,
    headers: {
      ...(role ? { authorization: `Bearer ${tokens.get(role)}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  db = await createTestDatabase();
  users = generateConsoleUsers();
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-consoleops-'));
  stack = await startLocalStack({
    stateDir,
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: [secret],
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: 2,
    batchSize: 10,
    persistQueues: false,
    queueDepthSampleMs: 200,
    reportsDir: path.join(stateDir, 'reports'),
    reportsToken: 'reports-token',
    console: { users },
  });
  const issuer = stack.console!.issuer;
  for (const role of ['ops', 'finance'] as const)
    tokens.set(role, await issuer.issue(users.find((u) => u.groups.includes(role))!));
  tokens.set('none', await issuer.issue({ username: 'nobody', password: 'x', groups: [] }));
  // The cause of the dead letter: the database refuses this one payment (NOT VALID: existing rows unchecked).
  await stack.sql.unsafe(
    `alter table payments add constraint consoleops_blocked check (provider_payment_id <> '${BLOCKED_PI}') not valid`,
  );
  const results = await sendDeliveries(
    stack.gatewayUrl,
    deliveriesOf([...scenario.events, blockedEvent()]),
    4,
  );
  expect(results.every((r) => r.status === 200)).toBe(true);
  // Two forgeries: a wrong signature and no signature at all.
  const forged = JSON.stringify(scenario.events[0]);
  await fetch(`${stack.gatewayUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=00`,
    },
    body: forged,
  });
  await fetch(`${stack.gatewayUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: forged,
  });
  await stack.drain();
});

afterAll(async () => {
  await stack?.stop();
  await db?.drop();
});

describe('role refusals', () => {
  const routes: [string, string][] = [
    ['GET', '/ops/events'],
    ['GET', `/ops/events/stripe/${scenario.events[0]!.id}`],
    ['GET', '/ops/dead-letters'],
    ['POST', '/ops/dead-letters/replay'],
    ['GET', '/ops/queues'],
    ['GET', '/ops/rejections'],
    ['GET', '/ops/charts/lag'],
    ['GET', '/ops/charts/queue-depth'],
  ];
  it('answers 401 without a session and 403 to finance on every operations route', async () => {
    for (const [method, route] of routes) {
      const body = method === 'POST' ? { messageIds: ['x'] } : undefined;
      expect((await call(method, route, { as: undefined, body })).status, `${method} ${route}`).toBe(401);
      const refused = await call(method, route, { as: 'finance', body });
      expect(refused.status, `${method} ${route}`).toBe(403);
      expect(JSON.stringify(refused.body)).not.toContain('rawBody');
      // No group at all is no role either.
      expect((await call(method, route, { as: 'none', body })).status).toBe(403);
    }
  });
});

describe('event search', () => {
  const payment = [...scenario.expected.payments.values()].find((p) => p.status === 'succeeded')!;

  it('finds an event by its provider event id', async () => {
    const event = scenario.events[3]!;
    const page = (await call('GET', '/ops/events', { query: { q: event.id } })).body as EventPage;
    expect(page.events.map((e) => e.eventId)).toEqual([event.id]);
    expect(page.events[0]).toMatchObject({ provider: 'stripe', eventType: event.type, outcome: 'applied' });
  });

  it('finds the last events of a payment by payment intent id and by merchant order number', async () => {
    const [row] = await stack.sql<{ last_event_id: string }[]>`
      select last_event_id from payments where provider_payment_id = ${payment.id}`;
    const byObject = (await call('GET', '/ops/events', { query: { q: payment.id } })).body as EventPage;
    expect(byObject.events.map((e) => e.eventId)).toContain(row!.last_event_id);
    const byOrder = (await call('GET', '/ops/events', { query: { q: payment.merchantOrderNo! } }))
      .body as EventPage;
    expect(byOrder.events.map((e) => e.eventId)).toContain(row!.last_event_id);
    // Refunds of that order are found with it.
    const refunds = await stack.sql<{ last_event_id: string }[]>`
      select last_event_id from refunds where provider_payment_id = ${payment.id}`;
    for (const r of refunds) expect(byOrder.events.map((e) => e.eventId)).toContain(r.last_event_id);
  });

  it('pages a time range by keyset, newest first, without gaps or repeats', async () => {
    const [bounds] = await stack.sql<{ from: Date; to: Date; n: bigint }[]>`
      select min(occurred_at) as from, max(occurred_at) + interval '1 second' as to, count(*) as n
      from inbox_events`;
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = {
        from: bounds!.from.toISOString(),
        to: bounds!.to.toISOString(),
        limit: '7',
        ...(cursor ? { cursor } : {}),
      };
      const page = (await call('GET', '/ops/events', { query })).body as EventPage;
      seen.push(...page.events.map((e) => e.eventId));
      for (let i = 1; i < page.events.length; i++)
        expect(page.events[i - 1]!.occurredAt >= page.events[i]!.occurredAt).toBe(true);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 100);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(Number(bounds!.n));
    expect(pages).toBeGreaterThan(1);
  });

  it('refuses a bad time or cursor with one line', async () => {
    const bad = await call('GET', '/ops/events', { query: { from: 'yesterday' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'OPS_BAD_QUERY' });
    expect((await call('GET', '/ops/events', { query: { cursor: "1'; drop" } })).status).toBe(400);
  });
});

describe('event detail', () => {
  it('shows the outcome, the ledger rows the event last changed and the raw body with personal data masked', async () => {
    const payment = [...scenario.expected.payments.values()].find((p) => p.status === 'succeeded')!;
    const [row] = await stack.sql<{ last_event_id: string; amount_minor: bigint }[]>`
      select last_event_id, amount_minor from payments where provider_payment_id = ${payment.id}`;
    const response = await call('GET', `/ops/events/stripe/${row!.last_event_id}`);
    expect(response.status).toBe(200);
    const detail = response.body as EventDetail;
    expect(detail.event).toMatchObject({ eventId: row!.last_event_id, outcome: 'applied' });
    expect(detail.changed.payments).toEqual([
      expect.objectContaining({
        provider_payment_id: payment.id,
        amount_minor: row!.amount_minor.toString(),
      }),
    ]);
    expect(detail.rawBody).toContain(payment.id);

    // A customer event: its e-mail is masked in the body and in the mirror row.
    const customerEvent = scenario.events.find((e) => e.type === 'customer.created')!;
    const customer = (await call('GET', `/ops/events/stripe/${customerEvent.id}`)).body as EventDetail;
    const email = (customerEvent.data.object as { email: string }).email;
    expect(JSON.stringify(customerEvent)).toContain(email);
    expect(customer.rawBody).toContain('[masked]');
    expect(JSON.stringify(customer)).not.toContain(email);
    expect(customer.changed.mirror[0]).toMatchObject({
      table: 'stripe.customers',
      lastChangedByThisEvent: true,
    });
  });

  it('answers 404 for an event it does not know', async () => {
    expect((await call('GET', '/ops/events/stripe/evt_never')).status).toBe(404);
    expect((await call('GET', '/ops/events/paypal/evt_never')).status).toBe(400);
  });
});

describe('dead letters, queues and replay', () => {
  it('lists the dead letter with the consumer’s reason, refuses a replay of ids not all there, replays the confirmed ids once fixed', async () => {
    const list = (await call('GET', '/ops/dead-letters')).body as DeadLetterList;
    const blocked = list.deadLetters.filter((l) => l.eventId === 'evt_consoleopsblocked');
    expect(blocked).toHaveLength(1);
    expect(blocked[0]!.lastFailure).toMatchObject({ code: 'PG_23514' });
    // Each failed attempt the consumer finished is recorded (a batch killed mid-way records nothing).
    expect(blocked[0]!.failedAttempts).toBeGreaterThanOrEqual(1);
    expect(list.depth).toBeGreaterThanOrEqual(1);
    expect(list.oldestSentAt).not.toBeNull();
    // The detail of a failed event shows its failure record although the inbox never held it.
    const failed = (await call('GET', '/ops/events/stripe/evt_consoleopsblocked')).body as EventDetail;
    expect(failed.event).toBeNull();
    expect(failed.failures[0]).toMatchObject({ error_code: 'PG_23514' });

    const queues = (await call('GET', '/ops/queues')).body as {
      dlq: { visible: number };
      oldestMessageAge: { dlq: { seconds: number; at: string } | null } | null;
    };
    expect(queues.dlq.visible).toBeGreaterThanOrEqual(1);
    // The local SQS service answers ApproximateAgeOfOldestMessage, as CloudWatch does in a stage.
    expect(queues.oldestMessageAge?.dlq?.seconds).toBeGreaterThanOrEqual(0);

    // Step two needs exactly the listed ids: one unknown id and nothing is replayed.
    const wrong = await call('POST', '/ops/dead-letters/replay', {
      body: { messageIds: [blocked[0]!.messageId, 'not-a-dead-letter'] },
    });
    expect(wrong.status).toBe(409);
    expect(wrong.body).toMatchObject({ code: 'OPS_DLQ_MISSING' });
    expect((await call('POST', '/ops/dead-letters/replay', { body: {} })).status).toBe(400);
    const still = (await call('GET', '/ops/dead-letters')).body as DeadLetterList;
    expect(still.deadLetters.map((l) => l.messageId)).toContain(blocked[0]!.messageId);

    // Fix the cause, replay the one confirmed id, and the ledger has the payment.
    await stack.sql.unsafe('alter table payments drop constraint consoleops_blocked');
    const replay = await call('POST', '/ops/dead-letters/replay', {
      body: { messageIds: [blocked[0]!.messageId] },
    });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ replayed: [blocked[0]!.messageId], sentNotDeleted: [], notSent: [] });
    await stack.drain();
    const [payment] = await stack.sql<{ status: string; amount_minor: bigint; last_event_id: string }[]>`
      select status, amount_minor, last_event_id from payments where provider_payment_id = ${BLOCKED_PI}`;
    expect(payment).toEqual({
      status: 'succeeded',
      amount_minor: 4200n,
      last_event_id: 'evt_consoleopsblocked',
    });
    const after = (await call('GET', '/ops/dead-letters')).body as DeadLetterList;
    expect(after.deadLetters.map((l) => l.messageId)).not.toContain(blocked[0]!.messageId);
    const applied = (await call('GET', '/ops/events/stripe/evt_consoleopsblocked')).body as EventDetail;
    expect(applied.event).toMatchObject({ outcome: 'applied' });
    expect(applied.rawBody).not.toContain('blocked.payer@example.test');
  });
});

describe('rejections and charts', () => {
  it('counts recent rejections by provider and reason', async () => {
    const body = (await call('GET', '/ops/rejections')).body as {
      available: boolean;
      rejections: { provider: string; reason: string; count: number }[];
    };
    expect(body.available).toBe(true);
    expect(body.rejections.reduce((n, r) => n + r.count, 0)).toBe(2);
    expect(body.rejections.every((r) => r.provider === 'stripe')).toBe(true);
    expect(stack.metrics.ingress.total('CallbackRejected')).toBe(2);
  });

  it('charts lag per hour and provider, and the sampled queue depth', async () => {
    const lag = (await call('GET', '/ops/charts/lag', { query: { hours: '2' } })).body as {
      buckets: { provider: string; events: number; p50Ms: number; p95Ms: number }[];
    };
    const [count] = await stack.sql<{ n: bigint }[]>`select count(*) as n from inbox_events`;
    expect(lag.buckets.reduce((n, b) => n + b.events, 0)).toBe(Number(count!.n));
    for (const b of lag.buckets) expect(b.p95Ms).toBeGreaterThanOrEqual(b.p50Ms);
    const depth = (await call('GET', '/ops/charts/queue-depth', { query: { hours: '1' } })).body as {
      samples: { queue: string }[];
    };
    expect(depth.samples.some((s) => s.queue === 'main')).toBe(true);
    expect(depth.samples.some((s) => s.queue === 'dlq')).toBe(true);
    expect((await call('GET', '/ops/charts/lag', { query: { hours: '0' } })).status).toBe(400);
  });
});
