// Two events about one mirrored object that the version rule cannot order (same provider time, same status
// rank) are recorded for revalidation — across batches and within one — and never when the rule can order them.
// Real Postgres.
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  applyEnvelope,
  applyEnvelopeBatch,
  claimDueRevalidations,
  markRevalidated,
  REVALIDATION_COOLDOWN_SECONDS,
} from '../../src/ledger/index.ts';
import { envelopeOf, mirrored, type TestEvent, testNormalizer } from './helpers.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());
beforeEach(async () => {
  await db.sql.unsafe(
    'truncate inbox_events, stripe.customers, stripe.payment_intents, object_revalidations',
  );
});

const one = (event: TestEvent) => db.sql.begin((tx) => applyEnvelope(tx, envelopeOf(event), testNormalizer));
const batch = (events: TestEvent[]) =>
  db.sql.begin((tx) =>
    applyEnvelopeBatch(
      tx,
      events.map((event, i) => ({ id: `m${i}`, envelope: envelopeOf(event) })),
      () => testNormalizer,
    ),
  );
const customerUpdated = (eventId: string, seconds: number, name: string): TestEvent => ({
  eventId,
  changes: [mirrored('customer', 'cus_1', 'active', seconds, { id: 'cus_1', name })],
});
const revalidations = () =>
  db.sql`select provider, object_type, object_id, state, ties, tied_event_ids from object_revalidations`;

describe('ties the version rule cannot break', () => {
  it('records an object whose second event ties with the held one, whichever arrives first', async () => {
    for (const [first, second] of [
      ['evt_a', 'evt_b'],
      ['evt_d', 'evt_c'],
    ] as const) {
      await db.sql.unsafe('truncate inbox_events, stripe.customers, object_revalidations');
      await one(customerUpdated(first, 10, first));
      expect(await revalidations()).toEqual([]);
      await one(customerUpdated(second, 10, second));
      expect(await revalidations()).toEqual([
        {
          provider: 'stripe',
          object_type: 'customer',
          object_id: 'cus_1',
          state: 'pending',
          ties: 1,
          tied_event_ids: expect.arrayContaining([first, second]),
        },
      ]);
    }
  });

  it('records a tie between two events of the same batch', async () => {
    await batch([customerUpdated('evt_x', 20, 'x'), customerUpdated('evt_y', 20, 'y')]);
    expect(await revalidations()).toMatchObject([{ object_id: 'cus_1', tied_event_ids: ['evt_y', 'evt_x'] }]);
  });

  it('records nothing when provider time or rank orders the events', async () => {
    await one(customerUpdated('evt_1', 10, 'old'));
    await one(customerUpdated('evt_2', 11, 'new')); // later
    await one({ eventId: 'evt_3', changes: [mirrored('payment_intent', 'pi_1', 'processing', 30)] });
    await one({ eventId: 'evt_4', changes: [mirrored('payment_intent', 'pi_1', 'succeeded', 30)] }); // ranks
    expect(await revalidations()).toEqual([]);
  });

  it('claims a due object once, then holds new ties of it back for the cooldown', async () => {
    await one(customerUpdated('evt_a', 10, 'a'));
    await one(customerUpdated('evt_b', 10, 'b'));
    const [due] = await claimDueRevalidations(db.sql, 'stripe', 10);
    expect(due).toMatchObject({ objectType: 'customer', objectId: 'cus_1', attempts: 1 });
    expect(await claimDueRevalidations(db.sql, 'stripe', 10)).toEqual([]);
    await markRevalidated(db.sql, due!, 'evt_heal_1');

    await one(customerUpdated('evt_c', 50, 'c'));
    await one(customerUpdated('evt_e', 50, 'e'));
    const [row] = await db.sql<{ state: string; ties: number; wait: number }[]>`
      select state, ties, extract(epoch from not_before - enqueued_at)::int as wait from object_revalidations`;
    expect(row).toEqual({ state: 'pending', ties: 2, wait: REVALIDATION_COOLDOWN_SECONDS });
    expect(await claimDueRevalidations(db.sql, 'stripe', 10)).toEqual([]);
  });
});
