// Design rule 3 for the set-based batch apply: any permutation with duplicates of a set of events, split into
// batches at arbitrary boundaries and applied by applyEnvelopeBatch on several connections at once, yields the
// same ledger as in-order, one-by-one delivery (applyEnvelope, a transaction per event). Real PostgreSQL.
import { createSql, type Sql } from '@payhooks/core/ledger';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvelope, applyEnvelopeBatch, type LedgerChange } from '../../src/ledger/index.ts';
import { dispute, envelopeOf, mirrored, payment, refund, type TestEvent, testNormalizer } from './helpers.ts';

let db: TestDatabase;
let connections: Sql[];
beforeAll(async () => {
  db = await createTestDatabase();
  connections = Array.from({ length: 3 }, () => createSql({ url: db.url, max: 1 }));
});
afterAll(async () => {
  await Promise.all((connections ?? []).map((sql) => sql.end()));
  await db?.drop();
});

const TABLES = `inbox_events, payments, refunds, disputes, payment_anomalies, stripe.payment_intents, stripe.charges`;

async function ledgerState(): Promise<unknown> {
  const [inbox, payments, refunds, disputes, anomalies, intents, charges] = await Promise.all([
    db.sql`select provider, event_id, outcome, api_version, raw_payload from inbox_events order by 1, 2`,
    db.sql`select * from payments order by provider, provider_payment_id`,
    db.sql`select * from refunds order by provider, provider_refund_id`,
    db.sql`select * from disputes order by provider, provider_dispute_id`,
    // Which event recorded an anomaly depends on arrival; that the payment has one does not.
    db.sql`select provider, provider_payment_id, kind from payment_anomalies order by 1, 2, 3`,
    db.sql`select * from stripe.payment_intents order by id`,
    db.sql`select * from stripe.charges order by id`,
  ]);
  return { inbox, payments, refunds, disputes, anomalies, intents, charges };
}

// Few keys, few seconds: many events per object and many same-second ties between them.
const second = fc.integer({ min: 0, max: 4 });
const changeArb: fc.Arbitrary<LedgerChange> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('p1', 'p2', 'p3'),
      fc.constantFrom('pending', 'processing', 'failed', 'succeeded', 'canceled' as const),
      second,
      fc.constantFrom(1000n, 1200n),
      fc.constantFrom('o1', null),
    )
    .map(([id, status, s, amountMinor, merchantOrderNo]) =>
      payment(id, status, s, { amountMinor, merchantOrderNo, provider: 'wechatpay', currency: 'CNY' }),
    ),
  fc
    .tuple(fc.constantFrom('r1', 'r2'), fc.constantFrom('pending', 'succeeded', 'failed' as const), second)
    .map(([id, status, s]) => refund(id, status, s)),
  fc
    .tuple(
      fc.constantFrom('d1'),
      fc.constantFrom('needs_response', 'under_review', 'won', 'lost' as const),
      second,
    )
    .map(([id, status, s]) => dispute(id, status, s)),
  fc
    .tuple(
      fc.constantFrom('payment_intent', 'charge'),
      fc.constantFrom('o1', 'o2'),
      fc.constantFrom('requires_payment_method', 'processing', 'succeeded', 'pending', 'failed'),
      second,
    )
    .filter(([type, , status]) =>
      type === 'charge'
        ? ['pending', 'failed', 'succeeded'].includes(status)
        : !['pending', 'failed'].includes(status),
    )
    .map(([type, id, status, s]) => mirrored(type, `${type}_${id}`, status, s, { id, status, s })),
);

const scenario = fc
  .array(fc.array(changeArb, { minLength: 0, maxLength: 3 }), { minLength: 1, maxLength: 14 })
  .chain((changeLists) => {
    const events: TestEvent[] = changeLists.map((changes, i) => ({
      eventId: `evt_${String(i).padStart(2, '0')}`,
      apiVersion: i % 2 === 0 ? 'v1' : null,
      changes,
    }));
    return fc.record({
      events: fc.constant(events),
      // A permutation of the events plus duplicates (provider retries) anywhere.
      delivery: fc
        .tuple(
          fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
          fc.array(fc.constantFrom(...events), { maxLength: 6 }),
          fc.array(fc.nat(), { maxLength: 6 }),
        )
        .map(([order, copies, at]) => {
          const all = [...order];
          copies.forEach((copy, i) => {
            all.splice((at[i] ?? 0) % (all.length + 1), 0, copy);
          });
          return all;
        }),
      cuts: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 20 }),
    });
  });

function split<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  const batches: T[][] = [];
  for (let i = 0, n = 0; i < items.length; n++) {
    const size = sizes[n % sizes.length]!;
    batches.push(items.slice(i, i + size));
    i += size;
  }
  return batches;
}

describe('set-based batch apply', () => {
  it('reaches the in-order, one-by-one state for any permutation with duplicates and any batching', async () => {
    await db.sql`insert into merchant_orders (provider, merchant_order_no, amount_minor, currency)
      values ('wechatpay', 'o1', 1000, 'CNY')`;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ events, delivery, cuts }) => {
        await db.sql.unsafe(`truncate ${TABLES}`);
        for (const event of events) {
          await db.sql.begin((tx) => applyEnvelope(tx, envelopeOf(event), testNormalizer));
        }
        const expected = await ledgerState();

        await db.sql.unsafe(`truncate ${TABLES}`);
        const batches = split(delivery, cuts);
        // Rounds of up to three batches at once, one connection each: concurrent batches about the same objects
        // wait for each other's row locks (and would fail here if they deadlocked).
        for (let r = 0; r < batches.length; r += connections.length) {
          await Promise.all(
            batches.slice(r, r + connections.length).map((events, c) =>
              connections[c]!.begin((tx) =>
                applyEnvelopeBatch(
                  tx,
                  events.map((event, i) => ({ id: `${r}-${i}`, envelope: envelopeOf(event) })),
                  () => testNormalizer,
                ),
              ),
            ),
          );
        }
        expect(await ledgerState()).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });
});
