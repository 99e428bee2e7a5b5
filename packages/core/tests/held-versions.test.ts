// The write statements of a change set given what the mirror tables hold (read in the batch's first flight): a
// mirror row that cannot change anything is not sent, a tie with the held row is recorded, anything newer or
// earlier-seen is written. No database: the statements themselves are checked (the convergence property tests
// run the same path on real PostgreSQL).
import { describe, expect, it } from 'vitest';
import { mirrorSpecFor } from '../src/ledger/mirrors.ts';
import { ChangeSet, type HeldVersions, heldVersionsStatement } from '../src/ledger/projections.ts';
import { orderOf, versionOf } from '../src/ledger/status.ts';
import '../src/providers/stripe/index.ts'; // registers the Stripe mirror tables
import { at, mirrored } from './ledger/helpers.ts';

const customerAt = (eventId: string, seconds: number) => {
  const set = new ChangeSet();
  set.add([mirrored('customer', 'cus_1', 'active', seconds)], eventId);
  return set;
};
/** What stripe.customers holds for cus_1: the version an 'active' snapshot of `eventId` at `seconds` has. */
const held = (eventId: string, seconds: number, firstSeenSeconds = seconds): HeldVersions => {
  const order = orderOf(mirrorSpecFor('stripe', 'customer').statuses, 'active', 'customer');
  return new Map([
    [
      'stripe.customers',
      new Map([
        [
          'cus_1',
          { version: versionOf(order, at(seconds), eventId), firstSeenMs: at(firstSeenSeconds).getTime() },
        ],
      ]),
    ],
  ]);
};
const writesCustomer = (upserts: string[]) => upserts.some((s) => s.includes('insert into stripe.customers'));
const recordsTie = (upserts: string[]) => upserts.some((s) => s.includes('insert into object_revalidations'));

describe('mirror writes against the held versions', () => {
  it('reads the held versions of every mirrored object of the set', () => {
    expect(heldVersionsStatement([{ rows: [], checks: [] }])).toBeNull();
    expect(customerAt('evt_1', 10).heldVersionsStatement()).toContain(
      `from stripe.customers where id = any($v$\{"cus_1"}$v$::text[])`,
    );
  });

  it('sends no write for an older snapshot the table already holds a newer one of, and records no tie', () => {
    const { upserts } = customerAt('evt_old', 10).statements(held('evt_new', 20, 10));
    expect(writesCustomer(upserts)).toBe(false);
    expect(recordsTie(upserts)).toBe(false);
  });

  it('writes an older snapshot that was seen earlier than the held first_seen_at', () => {
    const { upserts } = customerAt('evt_old', 10).statements(held('evt_new', 20, 15));
    expect(writesCustomer(upserts)).toBe(true);
  });

  it('writes a newer snapshot', () => {
    const { upserts } = customerAt('evt_new', 20).statements(held('evt_old', 10));
    expect(writesCustomer(upserts)).toBe(true);
    expect(recordsTie(upserts)).toBe(false);
  });

  it('records a tie with the held row and leaves the event-id order to SQL (the write is sent)', () => {
    const { upserts } = customerAt('evt_a', 10).statements(held('evt_b', 10));
    expect(writesCustomer(upserts)).toBe(true);
    const ties = upserts.find((s) => s.includes('insert into object_revalidations')) ?? '';
    expect(ties).toContain('evt_a');
    expect(ties).toContain('evt_b');
  });

  it('without held versions sends every row (the single-event path reads them itself)', () => {
    const { upserts } = customerAt('evt_old', 10).statements();
    expect(writesCustomer(upserts)).toBe(true);
  });
});
