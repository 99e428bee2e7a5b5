// Design rule 3 for the shipped consumer (createConsumer with the real Stripe and WeChat Pay normalizers, the
// set-based batch apply behind it): any permutation with duplicates of a mixed Stripe + WeChat Pay history, with
// poison messages among them, split into SQS batches at arbitrary boundaries and consumed by two containers at
// once (one connection each), leaves the ledger tables row for row as in-order delivery of the good events, one
// message per invocation. Every poison message is reported alone in its batch response. Real PostgreSQL, real
// AES-256-GCM with keys generated here.
import { randomUUID } from 'node:crypto';
import { createSql, type Sql } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import { parseMerchants } from '@payhooks/core/providers/wechatpay';
import {
  buildLifecycleHistory,
  LIFECYCLES,
  type LifecyclePlan,
  type ObjectKind,
} from '@payhooks/testkit/sandbox/stripe-lifecycles';
import { prng, type StripeEventJson, shuffle } from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  generateSandboxMerchants,
  type SandboxMerchants,
} from '@payhooks/testkit/sandbox/wechatpay-merchants';
import {
  type PaymentPlan,
  REFUND_PATHS,
  WechatpayHistory,
} from '@payhooks/testkit/sandbox/wechatpay-scenario';
import { encodeNotification } from '@payhooks/testkit/sandbox/wechatpay-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import type { SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../src/adapters/metrics.ts';
import { BatchFailedError, createConsumer, type SqsHandler } from '../src/consumer.ts';
import { stripeNormalizer, wechatpayNormalizer } from '../src/wiring/normalizers.ts';

let db: TestDatabase;
let sandbox: SandboxMerchants;
let containers: SqsHandler[];
let connections: Sql[];
beforeAll(async () => {
  [db, sandbox] = await Promise.all([createTestDatabase(), generateSandboxMerchants()]);
  const registry = parseMerchants(sandbox.document);
  const logger = createLogger({ name: 'test', destination: pino.destination('/dev/null') });
  connections = Array.from({ length: 2 }, () => createSql({ url: db.url, max: 1 }));
  containers = connections.map((sql) =>
    createConsumer({
      sql,
      normalizers: {
        stripe: stripeNormalizer({ orderMetadataKey: 'order_id' }),
        wechatpay: wechatpayNormalizer(registry),
      },
      logger,
      metrics: new MemoryMetrics(),
    }),
  );
});
afterAll(async () => {
  await Promise.all((connections ?? []).map((sql) => sql.end()));
  await db?.drop();
});

/** One queue message; copies of an event are the same message body (a provider retry or an SQS redelivery). */
interface Message {
  key: string;
  body: string;
  poison: boolean;
}

const RECEIVED_AT = '2026-12-01T00:00:00.000Z';

function stripeMessage(event: StripeEventJson, poison = false): Message {
  return {
    key: event.id,
    poison,
    body: JSON.stringify({
      v: 1,
      provider: 'stripe',
      eventId: event.id,
      eventType: event.type,
      account: '',
      occurredAt: new Date(event.created * 1000).toISOString(),
      receivedAt: RECEIVED_AT,
      rawBody: JSON.stringify(event),
    }),
  };
}

/** A known object that does not have its shape: STRIPE_UNEXPECTED_SHAPE, never claimed. */
function poisonMessage(n: number): Message {
  const event = {
    id: `evt_poison${n}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    created: 1_763_900_000 + n,
    api_version: '2026-10-28.endive',
    livemode: false,
    data: { object: { id: `pi_poison${n}`, object: 'payment_intent', amount: '100', currency: 'usd' } },
  } as unknown as StripeEventJson;
  return stripeMessage(event, true);
}

const ledgerTables = `inbox_events, payments, refunds, disputes, payment_anomalies, delivery_failures,
  object_revalidations, stripe.payment_intents, stripe.charges, stripe.refunds, stripe.disputes, stripe.customers,
  stripe.invoices, stripe.subscriptions, stripe.payouts, wechatpay.transactions, wechatpay.refunds,
  wechatpay.profit_sharing`;

/**
 * Every ledger table, row for row, all columns but the ones a database assigns at insert time (identity ids,
 * applied_at, detected_at). object_revalidations is left out: tie detection is best effort and depends on arrival
 * (a tie is only seen while neither tied event is overtaken by a newer one).
 */
async function ledgerState(): Promise<Record<string, unknown>> {
  const [inbox, payments, refunds, disputes, anomalies, ...mirrors] = await Promise.all([
    db.sql`select provider, event_id, event_type, account, occurred_at, received_at, outcome, api_version,
      raw_payload from inbox_events order by provider, event_id`,
    db.sql`select * from payments order by provider, provider_payment_id`,
    db.sql`select * from refunds order by provider, provider_refund_id`,
    db.sql`select * from disputes order by provider, provider_dispute_id`,
    db.sql`select provider, provider_payment_id, merchant_order_no, kind, expected_amount_minor, expected_currency,
      actual_amount_minor, actual_currency from payment_anomalies order by provider, provider_payment_id, kind`,
    ...[
      'stripe.payment_intents',
      'stripe.charges',
      'stripe.refunds',
      'stripe.disputes',
      'stripe.subscriptions',
      'stripe.invoices',
      'wechatpay.transactions',
      'wechatpay.refunds',
      'wechatpay.profit_sharing',
    ].map((table) => db.sql.unsafe(`select * from ${table} order by id`)),
  ]);
  return { inbox, payments, refunds, disputes, anomalies, mirrors };
}

function split<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  const batches: T[][] = [];
  for (let i = 0, n = 0; i < items.length; n++) {
    const size = sizes[n % sizes.length]!;
    batches.push(items.slice(i, i + size));
    i += size;
  }
  return batches;
}

function sqsEvent(messages: readonly Message[], ids: readonly string[]): SQSEvent {
  return {
    Records: messages.map((message, i) => ({
      messageId: ids[i]!,
      receiptHandle: ids[i]!,
      body: message.body,
      attributes: { ApproximateReceiveCount: '1' } as never,
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:ingest',
      awsRegion: 'us-east-1',
    })),
  };
}

/** One invocation; returns the messages it reported as failed (a batch where every message fails throws). */
async function invoke(container: SqsHandler, messages: readonly Message[]): Promise<Message[]> {
  const ids = messages.map(() => randomUUID());
  let failed: Set<string>;
  try {
    const response = await container(sqsEvent(messages, ids));
    failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  } catch (error) {
    if (!(error instanceof BatchFailedError)) throw error;
    failed = new Set(ids);
  }
  return messages.filter((_, i) => failed.has(ids[i]!));
}

const kinds = Object.keys(LIFECYCLES) as ObjectKind[];
const stripePlan: fc.Arbitrary<LifecyclePlan> = fc.record({
  kind: fc.constantFrom(...kinds),
  path: fc.nat(5),
  gaps: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 4 }),
});
const wechatpayPlan: fc.Arbitrary<PaymentPlan> = fc.record({
  amountMinor: fc.integer({ min: 1, max: 1_000_000 }),
  resend: fc.boolean(),
  refundPath: fc.option(fc.nat(REFUND_PATHS.length - 1), { nil: undefined }),
  gaps: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 }),
  subMchid: fc.constantFrom(undefined, '1900000109'),
});

const scenario = fc.record({
  stripe: fc.array(stripePlan, { maxLength: 3 }),
  wechatpay: fc.array(wechatpayPlan, { maxLength: 3 }),
  /** Merchant orders disagreeing with the paid amount (payment_anomalies rows). */
  mismatchedOrders: fc.boolean(),
  poison: fc.integer({ min: 0, max: 2 }),
  seed: fc.integer(),
  copies: fc.array(fc.nat(), { maxLength: 10 }),
  /** Batch sizes, cycled: boundaries anywhere, batches of one up to larger than the whole delivery. */
  cuts: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 }),
});

describe('the consumer handler (set-based batches) against in-order delivery', () => {
  it('leaves the same ledger, row for row, for any permutation with duplicates and poison, batched anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const stripe = buildLifecycleHistory(s.stripe, prng(s.seed));
        const wechat = new WechatpayHistory(prng(s.seed ^ 0x9e3779b9));
        s.wechatpay.forEach((plan, i) => {
          wechat.payment(
            sandbox.merchants[i % sandbox.merchants.length]!,
            `CONV-${i}`,
            1_740_000_000 + i * 3,
            plan,
          );
        });
        const byId = new Map(sandbox.merchants.map((m) => [m.id, m]));
        const good: Message[] = [
          ...stripe.events.map((event) => stripeMessage(event)),
          ...wechat.notifications.map((n) => ({
            key: n.id,
            poison: false,
            body: JSON.stringify({
              v: 1,
              provider: 'wechatpay',
              eventId: n.id,
              eventType: n.eventType,
              account: n.merchantId,
              occurredAt: n.createTime,
              receivedAt: RECEIVED_AT,
              rawBody: encodeNotification(n, byId.get(n.merchantId)!.apiv3Key),
            }),
          })),
        ];
        fc.pre(good.length > 0);
        const poison = Array.from({ length: s.poison }, (_, n) => poisonMessage(n));
        const orders = wechat.merchantOrders.map((o) => ({
          provider: 'wechatpay',
          merchant_order_no: o.merchantOrderNo,
          amount_minor: String(s.mismatchedOrders ? o.amountMinor + 1n : o.amountMinor),
          currency: o.currency,
        }));
        const reset = async () => {
          await db.sql.unsafe(`truncate ${ledgerTables}, merchant_orders`);
          if (orders.length > 0) await db.sql`insert into merchant_orders ${db.sql(orders)}`;
        };

        await reset();
        for (const message of good) expect(await invoke(containers[0]!, [message])).toEqual([]);
        const expected = await ledgerState();

        await reset();
        const random = prng(s.seed ^ 0x5bd1e995);
        const all = [...good, ...poison];
        const delivery = shuffle([...all, ...s.copies.map((pick) => all[pick % all.length]!)], random);
        const batches = split(delivery, s.cuts);
        for (let r = 0; r < batches.length; r += containers.length) {
          // Two containers at once: concurrent batches about the same objects wait for each other's row locks.
          await Promise.all(
            batches.slice(r, r + containers.length).map(async (batch, c) => {
              // Each poison message (every copy of it) fails alone; no good message fails with it.
              expect(await invoke(containers[c]!, batch)).toEqual(batch.filter((m) => m.poison));
            }),
          );
        }
        expect(await ledgerState()).toEqual(expected);
      }),
      { numRuns: 30 },
    );
  });
});
