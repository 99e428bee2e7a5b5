// raw_payload retention on real PostgreSQL: the purge nulls raw bodies older than the retention in bounded
// batches, keeps every inbox and projection row, and a purged event is still a duplicate when redelivered.
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyEnvelope, LedgerError, purgeRawPayloads } from '../../src/ledger/index.ts';
import { envelopeOf, payment, type TestEvent, testNormalizer } from './helpers.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());
beforeEach(async () => {
  await db.sql.unsafe('truncate inbox_events, payments, refunds, disputes');
});

const NOW = new Date('2026-12-15T00:00:00.000Z');
const OLD = '2026-11-01T00:00:01.000Z'; // 44 days before NOW
const RECENT = '2026-12-10T00:00:00.000Z';

const apply = (event: TestEvent, receivedAt: string) =>
  db.sql.begin((tx) => applyEnvelope(tx, { ...envelopeOf(event), receivedAt }, testNormalizer));
const eventOf = (i: number): TestEvent => ({
  eventId: `evt_${i}`,
  changes: [payment(`pi_${i}`, 'succeeded', 5)],
});

describe('purgeRawPayloads', () => {
  it('nulls raw bodies past the retention only, keeping inbox and ledger rows; purged events stay duplicates', async () => {
    // Prepare: five old events, two recent ones.
    for (let i = 0; i < 5; i += 1) await apply(eventOf(i), OLD);
    for (let i = 5; i < 7; i += 1) await apply(eventOf(i), RECENT);
    const paymentsBefore = await db.sql`select * from payments order by provider_payment_id`;

    // Act: batches of 2, so the old rows take three statements.
    const result = await purgeRawPayloads(db.sql, { retentionDays: 30, now: NOW, batchSize: 2 });

    // Assess
    expect(result).toEqual({ purged: 5, cutoff: new Date('2026-11-15T00:00:00.000Z'), complete: true });
    const inbox = await db.sql<{ event_id: string; kept: boolean; purged_at: Date | null }[]>`
      select event_id, raw_payload is not null as kept, raw_payload_purged_at as purged_at
      from inbox_events order by event_id`;
    expect(inbox).toHaveLength(7);
    for (const row of inbox) {
      const old = Number(row.event_id.slice(4)) < 5;
      expect(row.kept).toBe(!old);
      expect(row.purged_at).toEqual(old ? NOW : null);
    }
    expect(await db.sql`select * from payments order by provider_payment_id`).toEqual(paymentsBefore);
    expect(await apply(eventOf(0), OLD)).toEqual({ outcome: 'duplicate' });
    // A second run has nothing left to do.
    expect((await purgeRawPayloads(db.sql, { retentionDays: 30, now: NOW })).purged).toBe(0);
  });

  it('stops after maxBatches and says so; the next run finishes', async () => {
    for (let i = 0; i < 5; i += 1) await apply(eventOf(i), OLD);
    const first = await purgeRawPayloads(db.sql, {
      retentionDays: 30,
      now: NOW,
      batchSize: 2,
      maxBatches: 1,
    });
    expect(first).toMatchObject({ purged: 2, complete: false });
    const second = await purgeRawPayloads(db.sql, { retentionDays: 30, now: NOW, batchSize: 2 });
    expect(second).toMatchObject({ purged: 3, complete: true });
    const [left] = await db.sql`select count(*)::int as n from inbox_events where raw_payload is not null`;
    expect(left?.n).toBe(0);
  });

  it('refuses a retention that is not a whole number of days ≥ 1', async () => {
    for (const retentionDays of [0, -1, 1.5, Number.NaN]) {
      await expect(purgeRawPayloads(db.sql, { retentionDays, now: NOW })).rejects.toBeInstanceOf(LedgerError);
    }
  });
});
