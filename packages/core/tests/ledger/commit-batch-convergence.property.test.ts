// Design rule 3 for the consumer's path, commitEnvelopeBatch (its own transaction on a reserved connection, begin
// pipelined with the claim and commit with the writes): any permutation with duplicates of a set of events, with
// poison messages among them, split into batches at arbitrary boundaries and committed on several connections at
// once, yields the same ledger as in-order, one-by-one delivery of the good events (applyEnvelope). Each poison
// message fails alone and leaves nothing behind. Real PostgreSQL.
import { createSql, type Sql } from '@payhooks/core/ledger';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyEnvelope,
  type BatchOutcome,
  commitEnvelopeBatch,
  type LedgerChange,
} from '../../src/ledger/index.ts';
import { envelopeOf, mirrored, payment, refund, type TestEvent, testNormalizer } from './helpers.ts';

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
  const [inbox, payments, refunds, anomalies, intents, charges] = await Promise.all([
    db.sql`select provider, event_id, outcome, api_version, raw_payload from inbox_events order by 1, 2`,
    db.sql`select * from payments order by provider, provider_payment_id`,
    db.sql`select * from refunds order by provider, provider_refund_id`,
    db.sql`select provider, provider_payment_id, kind from payment_anomalies order by 1, 2, 3`,
    db.sql`select * from stripe.payment_intents order by id`,
    db.sql`select * from stripe.charges order by id`,
  ]);
  return { inbox, payments, refunds, anomalies, intents, charges };
}

const second = fc.integer({ min: 0, max: 3 });
const changeArb: fc.Arbitrary<LedgerChange> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('p1', 'p2'),
      fc.constantFrom('pending', 'failed', 'succeeded', 'canceled' as const),
      second,
      fc.constantFrom(1000n, 1200n),
    )
    .map(([id, status, s, amountMinor]) =>
      payment(id, status, s, { amountMinor, merchantOrderNo: 'o1', provider: 'wechatpay', currency: 'CNY' }),
    ),
  fc
    .tuple(fc.constantFrom('r1'), fc.constantFrom('pending', 'succeeded', 'failed' as const), second)
    .map(([id, status, s]) => refund(id, status, s)),
  fc
    .tuple(
      fc.constantFrom('o1', 'o2'),
      fc.constantFrom('requires_payment_method', 'processing', 'succeeded'),
      second,
    )
    .map(([id, status, s]) => mirrored('payment_intent', `pi_${id}`, status, s, { id, status, s })),
);

/** Good events, plus poison ones: a body that cannot be decoded, or a change the ledger cannot place. */
const scenario = fc
  .array(
    fc.record({
      changes: fc.array(changeArb, { minLength: 0, maxLength: 3 }),
      poison: fc.constantFrom('none', 'none', 'none', 'none', 'undecodable', 'unplaceable' as const),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .chain((specs) => {
    const events: (TestEvent & { poison: boolean })[] = specs.map(({ changes, poison }, i) => ({
      eventId: `evt_${String(i).padStart(2, '0')}`,
      apiVersion: i % 3 === 0 ? 'v1' : null,
      changes:
        poison === 'unplaceable'
          ? [...changes, { ...payment('p9', 'succeeded', 1), status: 'exploded' } as never]
          : changes,
      broken: poison === 'undecodable',
      poison: poison !== 'none',
    }));
    return fc.record({
      events: fc.constant(events),
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
      cuts: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 12 }),
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

describe('commitEnvelopeBatch (the consumer path)', () => {
  it('reaches the in-order state of the good events for any permutation with duplicates, poison and batching', async () => {
    await db.sql`insert into merchant_orders (provider, merchant_order_no, amount_minor, currency)
      values ('wechatpay', 'o1', 1000, 'CNY') on conflict do nothing`;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ events, delivery, cuts }) => {
        await db.sql.unsafe(`truncate ${TABLES}`);
        for (const event of events.filter((e) => !e.poison)) {
          await db.sql.begin((tx) => applyEnvelope(tx, envelopeOf(event), testNormalizer));
        }
        const expected = await ledgerState();

        await db.sql.unsafe(`truncate ${TABLES}`);
        const batches = split(delivery, cuts);
        const outcomes: { event: TestEvent & { poison: boolean }; outcome: BatchOutcome }[] = [];
        // Rounds of up to three batches at once, one connection each: concurrent batches about the same objects
        // wait for each other's row locks (and would fail here if they deadlocked).
        for (let r = 0; r < batches.length; r += connections.length) {
          await Promise.all(
            batches.slice(r, r + connections.length).map(async (batch, c) => {
              const items = batch.map((event, i) => ({ id: `${r}-${c}-${i}`, envelope: envelopeOf(event) }));
              const result = await commitEnvelopeBatch(connections[c]!, items, () => testNormalizer);
              batch.forEach((event, i) => {
                outcomes.push({ event, outcome: result.get(`${r}-${c}-${i}`)! });
              });
            }),
          );
        }
        expect(await ledgerState()).toEqual(expected);
        for (const { event, outcome } of outcomes) {
          expect(outcome.outcome).toEqual(
            event.poison ? 'failed' : expect.stringMatching(/^(applied|stored|duplicate)$/),
          );
        }
        // Exactly once: each good event is applied (or stored) by one message, every other copy is a duplicate.
        const firsts = outcomes.filter(
          ({ outcome }) => outcome.outcome === 'applied' || outcome.outcome === 'stored',
        );
        expect(firsts.map(({ event }) => event.eventId).sort()).toEqual(
          events.filter((e) => !e.poison).map((e) => e.eventId),
        );
      }),
      { numRuns: 40 },
    );
  });
});
