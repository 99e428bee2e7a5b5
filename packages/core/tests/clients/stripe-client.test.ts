// StripeClient (the stripe package pointed at the provider API sandbox) over real loopback HTTP: events pagination
// with created filters, retrieval of the latest snapshots, synthetic healing events through the normalizer, the
// Reports API (availability, run pending → succeeded, file download parsed by recon) and typed errors.
import {
  type ProviderSandbox,
  type StripeProviderSandbox,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { buildStripeScenario } from '@payhooks/testkit/sandbox/stripe-scenario';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  normalizeStripeEvent,
  STRIPE_CLIENT_CODES,
  StripeApiError,
  StripeClient,
  type StripeClientOptions,
  syntheticEvent,
} from '../../src/providers/stripe/index.ts';
import { parseBalanceChangeReport, parsePayoutsReport, STRIPE_REPORT_TYPES } from '../../src/recon/index.ts';

const START = 1_740_787_200; // 2025-03-01T00:00:00Z
const DAY_END = START + 86_400;
const scenario = buildStripeScenario({ seed: 7, payments: 24, startTime: START + 3_600 });

let sandbox: ProviderSandbox;
let stripe: StripeProviderSandbox;
const clock = { now: () => new Date((DAY_END + 7_200) * 1000) };

beforeAll(async () => {
  sandbox = await startProviderSandbox({ clock, stripe: {} });
  stripe = sandbox.stripe!;
  stripe.addEvents(scenario.events);
  stripe.setDataAvailableEnd(DAY_END);
});

afterAll(async () => {
  await sandbox.stop();
});

beforeEach(() => {
  Object.assign(stripe.faults, { pendingPolls: 1, failNextReportRun: false });
});

function client(overrides: Partial<StripeClientOptions> = {}): StripeClient {
  return new StripeClient({
    apiKey: stripe.apiKey,
    apiBaseUrl: sandbox.url,
    maxNetworkRetries: 0,
    clock,
    ...overrides,
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<StripeApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StripeApiError);
  return error as StripeApiError;
}

async function drain<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

describe('events', () => {
  it('pages through every event in [createdGte, createdLt), newest first', async () => {
    const gte = START + 3_600 + 30;
    const lt = START + 3_600 + 120;
    const expected = scenario.events
      .map((event, index) => ({ event, index }))
      .filter(({ event }) => event.created >= gte && event.created < lt)
      .sort((a, b) => b.event.created - a.event.created || b.index - a.index)
      .map(({ event }) => event.id);
    expect(expected.length).toBeGreaterThan(12);
    const seen = await drain(client().listEvents({ createdGte: gte, createdLt: lt, pageSize: 5 }));
    expect(seen.map((event) => event.id)).toEqual(expected);
  });

  it('filters by event type', async () => {
    const seen = await drain(client().listEvents({ createdGte: START, types: ['payout.paid'], pageSize: 2 }));
    expect(seen.map((event) => event.type)).toEqual(['payout.paid']);
  });
});

describe('retrieve and heal', () => {
  it('retrieves the newest snapshot of a payment intent and heals it through the normalizer', async () => {
    const [id, expected] = [...scenario.expected.payments.entries()].find(
      ([, p]) => p.status === 'succeeded',
    )!;
    const intent = await client().retrieve('payment_intent', id);
    expect(intent).toMatchObject({ id, object: 'payment_intent', status: 'succeeded' });

    const event = syntheticEvent(intent, { clock, type: 'payment_intent.succeeded' });
    expect(event).toMatchObject({ object: 'event', request: { id: null }, payhooks_synthetic: true });
    expect(event.id.startsWith('evt_heal_')).toBe(true);
    expect(syntheticEvent(intent, { clock }).id).toBe(event.id);
    const normalized = normalizeStripeEvent(JSON.stringify(event), { orderMetadataKey: 'order_id' });
    const payment = normalized.changes.find((change) => change.kind === 'payment');
    expect(payment).toMatchObject({
      providerPaymentId: id,
      status: 'succeeded',
      amountMinor: expected.amountMinor,
    });
  });

  it('retrieves each mirrored object type', async () => {
    for (const [key, status] of scenario.expected.mirror) {
      const [type, id] = key.split(':') as [string, string];
      if (!['charge', 'refund', 'dispute', 'invoice', 'subscription', 'payout'].includes(type)) continue;
      const object = await client().retrieve(type as 'charge', id);
      expect(object.status).toBe(status);
    }
  });

  it('reports an unknown object as a typed invalid request (resource_missing)', async () => {
    const error = await rejectionOf(client().retrieve('charge', 'ch_doesnotexist'));
    expect([error.code, error.status, error.stripeCode]).toEqual([
      STRIPE_CLIENT_CODES.invalidRequest,
      404,
      'resource_missing',
    ]);
  });

  it('reports a wrong API key as a typed authentication error', async () => {
    const wrong = client({ apiKey: 'sk_test_not_the_sandbox_key' });
    const error = await rejectionOf(wrong.retrieve('charge', 'ch_x'));
    expect([error.code, error.status]).toEqual([STRIPE_CLIENT_CODES.authentication, 401]);
    const events = await rejectionOf(drain(wrong.listEvents({ createdGte: START })));
    expect(events.code).toBe(STRIPE_CLIENT_CODES.authentication);
  });
});

describe('reports', () => {
  it('runs balance_change_from_activity: availability, pending → succeeded, file parsed by recon', async () => {
    const records = stripe.deriveBalanceTransactions();
    const c = client();
    const availability = await c.reportTypeAvailability(STRIPE_REPORT_TYPES.balanceChange);
    expect(availability.dataAvailableEnd).toEqual(new Date(DAY_END * 1000));

    const run = await c.createReportRun(STRIPE_REPORT_TYPES.balanceChange, {
      intervalStart: START,
      intervalEnd: availability.dataAvailableEnd,
      timezone: 'Etc/UTC',
    });
    expect(run.status).toBe('pending');
    const sleeps: number[] = [];
    const done = await c.waitForReportRun(run.id, {
      pollMs: 500,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    expect(done.status).toBe('succeeded');
    expect(sleeps).toEqual([500]);

    const parser = parseBalanceChangeReport(await c.downloadFile(done.result!.url!));
    const rows = await drain(parser);
    expect(rows.map((r) => r.balanceTransactionId).sort()).toEqual(
      records.map((r) => r.balanceTransactionId).sort(),
    );
    const charge = rows.find((r) => r.reportingCategory === 'charge')!;
    expect(charge.netMinor).toBe(charge.grossMinor - charge.feeMinor);
    expect(charge.metadata.order_id).toMatch(/^ORD-7-/);
    // The same contents by file id, from the files host.
    const byId = await drain(parseBalanceChangeReport(await c.downloadFile(done.result!.id)));
    expect(byId).toHaveLength(rows.length);
  });

  it('serves payouts.itemized.3', async () => {
    stripe.addPayouts([
      { payoutId: 'po_sandbox1', effectiveAt: START + 100, currency: 'usd', grossMinor: -12_345 },
    ]);
    const c = client();
    const run = await c.createReportRun(STRIPE_REPORT_TYPES.payouts, {
      intervalStart: START,
      intervalEnd: DAY_END,
    });
    const done = await c.waitForReportRun(run.id, { sleep: async () => {} });
    const rows = await drain(parsePayoutsReport(await c.downloadFile(done.result!.url!)));
    expect(rows.map((r) => [r.payoutId, r.grossMinor])).toEqual([['po_sandbox1', -12_345n]]);
  });

  it('refuses an interval beyond data_available_end', async () => {
    const error = await rejectionOf(
      client().createReportRun(STRIPE_REPORT_TYPES.balanceChange, {
        intervalStart: START,
        intervalEnd: DAY_END + 1,
      }),
    );
    expect([error.code, error.status]).toEqual([STRIPE_CLIENT_CODES.invalidRequest, 400]);
  });

  it('raises typed errors for a failed run and a run that stays pending', async () => {
    const c = client();
    stripe.faults.failNextReportRun = true;
    const failed = await c.createReportRun(STRIPE_REPORT_TYPES.balanceChange, {
      intervalStart: START,
      intervalEnd: DAY_END,
    });
    expect((await rejectionOf(c.waitForReportRun(failed.id, { sleep: async () => {} }))).code).toBe(
      STRIPE_CLIENT_CODES.reportFailed,
    );
    stripe.faults.pendingPolls = 1_000;
    const slow = await c.createReportRun(STRIPE_REPORT_TYPES.balanceChange, {
      intervalStart: START,
      intervalEnd: DAY_END,
    });
    let waited = 0;
    const error = await rejectionOf(
      c.waitForReportRun(slow.id, {
        pollMs: 1_000,
        maxPollMs: 4_000,
        timeoutMs: 20_000,
        sleep: async (ms) => {
          waited += ms;
        },
      }),
    );
    expect(error.code).toBe(STRIPE_CLIENT_CODES.reportTimeout);
    expect(waited).toBeLessThanOrEqual(20_000);
  });

  it('downloads files only with the right key and only from Stripe hosts', async () => {
    const c = client();
    const run = await c.createReportRun(STRIPE_REPORT_TYPES.payouts, {
      intervalStart: START,
      intervalEnd: DAY_END,
    });
    const done = await c.waitForReportRun(run.id, { sleep: async () => {} });
    const wrong = await rejectionOf(client({ apiKey: 'sk_test_wrong' }).downloadFile(done.result!.url!));
    expect([wrong.code, wrong.status, wrong.type]).toEqual([
      STRIPE_CLIENT_CODES.authentication,
      401,
      'invalid_request_error',
    ]);
    const foreign = await rejectionOf(c.downloadFile('https://evil.example/v1/files/file_x/contents'));
    expect(foreign.code).toBe(STRIPE_CLIENT_CODES.fileHost);
  });
});
