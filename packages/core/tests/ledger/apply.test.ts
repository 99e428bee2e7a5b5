// The ledger on real PostgreSQL: exactly-once apply through the inbox (one envelope and set-based batches),
// the version-merge rule of the projections, merchant-order anomalies and the mirror-table registry.
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  applyEnvelope,
  applyEnvelopeBatch,
  type BatchOutcome,
  LedgerError,
  mirrorSpecFor,
} from '../../src/ledger/index.ts';
import { orderOf, PAYMENT_ORDER } from '../../src/ledger/status.ts';
import { dispute, envelopeOf, mirrored, payment, refund, type TestEvent, testNormalizer } from './helpers.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());
beforeEach(async () => {
  await db.sql.unsafe(`truncate inbox_events, payments, refunds, disputes, payment_anomalies, merchant_orders,
    stripe.payment_intents, stripe.charges, stripe.refunds, stripe.disputes`);
});

const one = (event: TestEvent) => db.sql.begin((tx) => applyEnvelope(tx, envelopeOf(event), testNormalizer));
const batch = (events: TestEvent[]) =>
  db.sql.begin((tx) =>
    applyEnvelopeBatch(
      tx,
      events.map((event, i) => ({ id: `m${i}`, envelope: envelopeOf(event) })),
      () => testNormalizer,
    ),
  ) as Promise<Map<string, BatchOutcome>>;

describe('applyEnvelope', () => {
  it('applies an event once: the inbox row and its projections, then duplicate', async () => {
    const event = { eventId: 'evt_1', apiVersion: '2026-10-28', changes: [payment('pi_1', 'succeeded', 5)] };
    expect(await one(event)).toEqual({ outcome: 'applied', changes: 1, anomalies: [] });
    expect(await one(event)).toEqual({ outcome: 'duplicate' });
    const inbox = await db.sql`select event_id, outcome, api_version from inbox_events`;
    expect(inbox).toEqual([{ event_id: 'evt_1', outcome: 'applied', api_version: '2026-10-28' }]);
    const [row] = await db.sql`select status, amount_minor, succeeded_at, last_event_id from payments`;
    expect(row).toMatchObject({ status: 'succeeded', amount_minor: 1000n, last_event_id: 'evt_1' });
  });

  it('stores an event without changes as evidence only', async () => {
    expect(await one({ eventId: 'evt_s', changes: [] })).toEqual({
      outcome: 'stored',
      changes: 0,
      anomalies: [],
    });
    const inbox = await db.sql`select outcome, api_version from inbox_events`;
    expect(inbox).toEqual([{ outcome: 'stored', api_version: null }]);
  });

  it('throws, writing nothing, for an event it cannot normalize or place', async () => {
    await expect(one({ eventId: 'evt_b', changes: [], broken: true })).rejects.toThrow(
      /cannot be normalized/,
    );
    const unknown = { ...payment('pi_x', 'succeeded', 1), status: 'exploded' } as never;
    await expect(one({ eventId: 'evt_u', changes: [unknown] })).rejects.toMatchObject({
      code: 'LEDGER_NO_RANK',
    });
    expect(await db.sql`select * from inbox_events`).toEqual([]);
    expect(await db.sql`select * from payments`).toEqual([]);
  });
});

describe('applyEnvelopeBatch', () => {
  it('fails an undecodable message alone, removes its claim, and reports duplicates within the batch', async () => {
    const good = { eventId: 'evt_g', changes: [payment('pi_1', 'pending', 1)] };
    const outcomes = await batch([good, { eventId: 'evt_b', changes: [], broken: true }, good]);
    expect(outcomes.get('m0')).toEqual({ outcome: 'applied', changes: 1, anomalies: [] });
    expect(outcomes.get('m1')?.outcome).toBe('failed');
    expect(outcomes.get('m2')).toEqual({ outcome: 'duplicate' });
    const inbox = await db.sql`select event_id from inbox_events`;
    expect(inbox).toEqual([{ event_id: 'evt_g' }]);
    // The failed message can be applied once it decodes.
    expect((await batch([{ eventId: 'evt_b', changes: [] }])).get('m0')?.outcome).toBe('stored');
  });

  it('fails an event with a status without rank alone (LedgerError), applying the rest', async () => {
    const unknown = { ...refund('re_x', 'pending', 1), status: 'exploded' } as never;
    const outcomes = await batch([
      { eventId: 'evt_1', changes: [payment('pi_1', 'succeeded', 1)] },
      { eventId: 'evt_2', changes: [unknown] },
    ]);
    const failed = outcomes.get('m1');
    expect(failed?.outcome === 'failed' && failed.error).toBeInstanceOf(LedgerError);
    expect(await db.sql`select event_id from inbox_events`).toEqual([{ event_id: 'evt_1' }]);
  });

  it('keeps the highest version per key within one batch and merges first_seen_at and succeeded_at with least()', async () => {
    await batch([
      { eventId: 'evt_3', changes: [payment('pi_1', 'processing', 30)] },
      { eventId: 'evt_1', changes: [payment('pi_1', 'succeeded', 20, { amountMinor: 1200n })] },
      { eventId: 'evt_2', changes: [payment('pi_1', 'pending', 10)] },
      { eventId: 'evt_4', changes: [refund('re_1', 'succeeded', 40), refund('re_1', 'pending', 35)] },
      {
        eventId: 'evt_5',
        changes: [dispute('dp_1', 'under_review', 50), mirrored('dispute', 'dp_1', 'won', 51)],
      },
    ]);
    const [p] =
      await db.sql`select status, amount_minor, first_seen_at, succeeded_at, updated_at, last_event_id from payments`;
    // succeeded is terminal: it beats the later processing snapshot; the first sighting is the pending one.
    expect(p).toMatchObject({ status: 'succeeded', amount_minor: 1200n, last_event_id: 'evt_1' });
    expect(p?.first_seen_at).toEqual(new Date('2026-11-01T00:00:10.000Z'));
    expect(p?.succeeded_at).toEqual(new Date('2026-11-01T00:00:20.000Z'));
    const [r] = await db.sql`select status, first_seen_at, succeeded_at from refunds`;
    expect(r).toMatchObject({ status: 'succeeded', first_seen_at: new Date('2026-11-01T00:00:35.000Z') });
    expect((await db.sql`select status from disputes`)[0]).toEqual({ status: 'under_review' });
    expect((await db.sql`select status, data from stripe.disputes`)[0]).toEqual({
      status: 'won',
      data: { id: 'dp_1', status: 'won' },
    });
  });

  it('never lets an older version overwrite a newer one across batches, but still merges least() columns', async () => {
    await batch([{ eventId: 'evt_2', changes: [payment('pi_1', 'succeeded', 20)] }]);
    await batch([{ eventId: 'evt_1', changes: [payment('pi_1', 'succeeded', 10, { amountMinor: 1n })] }]);
    const [p] = await db.sql`select amount_minor, first_seen_at, succeeded_at, last_event_id from payments`;
    expect(p).toMatchObject({ amount_minor: 1000n, last_event_id: 'evt_2' });
    expect(p?.first_seen_at).toEqual(new Date('2026-11-01T00:00:10.000Z'));
    expect(p?.succeeded_at).toEqual(new Date('2026-11-01T00:00:10.000Z'));
  });

  it('records merchant-order anomalies once per payment and kind, account order first, and reports them per event', async () => {
    await db.sql`insert into merchant_orders (provider, account, merchant_order_no, amount_minor, currency) values
      ('wechatpay', '', 'o1', 1000, 'CNY'), ('wechatpay', 'm2', 'o1', 2000, 'CNY'), ('wechatpay', '', 'o2', 500, 'CNY')`;
    const wx = { provider: 'wechatpay' as const, currency: 'CNY' };
    const outcomes = await batch([
      // account m2's own order (2000) applies, not the account-less one (1000): amount matches.
      {
        eventId: 'e1',
        provider: 'wechatpay',
        changes: [
          payment('p1', 'succeeded', 1, { ...wx, account: 'm2', amountMinor: 2000n, merchantOrderNo: 'o1' }),
        ],
      },
      // o2 expects 500 CNY: both differ.
      {
        eventId: 'e2',
        provider: 'wechatpay',
        changes: [
          payment('p2', 'succeeded', 1, { ...wx, amountMinor: 600n, currency: 'USD', merchantOrderNo: 'o2' }),
        ],
      },
      // The same payment again with the same differences: recorded once.
      {
        eventId: 'e3',
        provider: 'wechatpay',
        changes: [
          payment('p2', 'succeeded', 2, { ...wx, amountMinor: 700n, currency: 'USD', merchantOrderNo: 'o2' }),
        ],
      },
      // Not succeeded, or no such order: nothing.
      {
        eventId: 'e4',
        provider: 'wechatpay',
        changes: [payment('p3', 'pending', 1, { ...wx, amountMinor: 1n, merchantOrderNo: 'o2' })],
      },
      {
        eventId: 'e5',
        provider: 'wechatpay',
        changes: [payment('p4', 'succeeded', 1, { ...wx, merchantOrderNo: 'nope' })],
      },
    ]);
    const anomalies = (id: string) => {
      const o = outcomes.get(id);
      return o && 'anomalies' in o ? o.anomalies : undefined;
    };
    expect(anomalies('m0')).toEqual([]);
    expect(anomalies('m1')).toEqual([
      { kind: 'amount_mismatch', providerPaymentId: 'p2', merchantOrderNo: 'o2' },
      { kind: 'currency_mismatch', providerPaymentId: 'p2', merchantOrderNo: 'o2' },
    ]);
    expect(anomalies('m2')).toEqual([]);
    const rows =
      await db.sql`select provider_payment_id, kind, expected_amount_minor, actual_amount_minor, event_id
      from payment_anomalies order by kind`;
    expect(rows).toEqual([
      {
        provider_payment_id: 'p2',
        kind: 'amount_mismatch',
        expected_amount_minor: 500n,
        actual_amount_minor: 600n,
        event_id: 'e2',
      },
      {
        provider_payment_id: 'p2',
        kind: 'currency_mismatch',
        expected_amount_minor: 500n,
        actual_amount_minor: 600n,
        event_id: 'e2',
      },
    ]);
  });

  it('carries any text through the inline literals unchanged (quotes, backslashes, dollar tags, unicode)', async () => {
    const nasty = `'"\\ $v$ $v0$ $$ {a,b} NULL \u00e9\u4e2d\ud83d\ude00 ');drop table payments;--`;
    await batch([
      { eventId: nasty, changes: [mirrored('charge', `ch_${nasty}`, 'pending', 1, { note: nasty })] },
    ]);
    const [inbox] = await db.sql`select event_id, raw_payload from inbox_events`;
    expect(inbox?.event_id).toBe(nasty);
    expect(JSON.parse(inbox?.raw_payload as string).eventId).toBe(nasty);
    const [charge] = await db.sql`select id, data from stripe.charges`;
    expect(charge).toEqual({ id: `ch_${nasty}`, data: { note: nasty } });
  });
});

describe('registries', () => {
  it('knows the mirror tables the Stripe provider registered, and throws LedgerError for others', () => {
    expect(mirrorSpecFor('stripe', 'payment_intent').table).toBe('stripe.payment_intents');
    expect(() => mirrorSpecFor('wechatpay', 'payment_intent')).toThrow(LedgerError);
    expect(() => orderOf(PAYMENT_ORDER, 'exploded', 'payment')).toThrow(
      expect.objectContaining({ code: 'LEDGER_NO_RANK' }),
    );
  });
});
