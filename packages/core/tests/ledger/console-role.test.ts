// The console's database role (migration 0018-consoleaws-console-role) on real PostgreSQL: it reads the ledger
// and reconciliation tables, performs every break action (assign, note, resolve, write off) with its audit rows,
// and is refused everything else — writes to the ledger, other break columns, new breaks, audit rewrites, DDL and
// ley's migrations table. The session runs as the role (createSql's `role`), so no cluster-wide password is set.
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, DATABASE_ROLES, type Sql } from '../../src/ledger/index.ts';
import { assignBreak, noteBreak, resolveBreak, writeOffBreak } from '../../src/recon/run/index.ts';

let db: TestDatabase;
let consoleSql: Sql;
const PERMISSION_DENIED = { code: '42501' };

async function insertBreak(objectKey: string): Promise<bigint> {
  const [row] = await db.sql<{ id: bigint }[]>`
    insert into recon_breaks (provider, account, class, kind, object_key, first_seen_date, first_seen_run,
      first_seen_at, last_seen_date, last_seen_run, last_seen_at, state, item, updated_at)
    values ('stripe', 'platform', 'missing_in_ledger', 'payment', ${objectKey}, '2026-11-01', 'run-1', now(),
      '2026-11-01', 'run-1', now(), 'open', '{}'::jsonb, now())
    returning id`;
  return row!.id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  consoleSql = createSql({ url: db.url, max: 1, role: DATABASE_ROLES.console });
});
afterAll(async () => {
  await consoleSql?.end();
  await db?.drop();
});

describe('payhooks_console', () => {
  it('reads the ledger, the reconciliation tables and the mirrors', async () => {
    const [row] = await consoleSql`select current_user as role`;
    expect(row).toEqual({ role: DATABASE_ROLES.console });
    for (const table of [
      'inbox_events',
      'payments',
      'refunds',
      'disputes',
      'merchant_orders',
      'payment_anomalies',
      'delivery_failures',
      'recon_runs',
      'recon_breaks',
      'recon_break_events',
      'recon_break_sightings',
      'recon_day_totals',
      'stripe.payment_intents',
      'wechatpay.transactions',
    ])
      await expect(consoleSql.unsafe(`select count(*) from ${table}`)).resolves.toHaveLength(1);
  });

  it('assigns, notes, resolves and writes off breaks, each with its audit row', async () => {
    const first = await insertBreak('payment:pi_1');
    const second = await insertBreak('payment:pi_2');
    await assignBreak(consoleSql, { breakId: first, actor: 'fin@example.com', assignee: 'ana' });
    await noteBreak(consoleSql, { breakId: first, actor: 'fin@example.com', text: 'asked the bank' });
    await resolveBreak(consoleSql, { breakId: first, actor: 'fin@example.com', reason: 'paid late' });
    await writeOffBreak(consoleSql, { breakId: second, actor: 'fin@example.com', reason: 'under 1 cent' });
    const events = await db.sql`select break_id, action, actor from recon_break_events order by id`;
    expect(events.map((e) => e.action)).toEqual(['assigned', 'noted', 'resolved', 'written_off']);
    const states = await db.sql`select id, state, assignee from recon_breaks order by id`;
    expect(states.map((s) => s.state)).toEqual(['resolved', 'written_off']);
  });

  it('is refused every other write', async () => {
    const id = (await insertBreak('payment:pi_3')).toString();
    for (const statement of [
      `insert into payments (provider, provider_payment_id, amount_minor, currency, status, status_rank,
        first_seen_at, updated_at, last_event_id, version) values ('stripe', 'pi_x', 1, 'USD', 'succeeded', 100,
        now(), now(), 'evt', 'v')`,
      'update merchant_orders set amount_minor = 0',
      'delete from inbox_events',
      `update recon_breaks set item = '{}'::jsonb where id = ${id}`,
      `update recon_breaks set provider_amount_minor = 0 where id = ${id}`,
      'delete from recon_breaks',
      `insert into recon_breaks (provider, account, class, kind, object_key, first_seen_date, first_seen_run,
        first_seen_at, last_seen_date, last_seen_run, last_seen_at, state, item, updated_at)
       values ('stripe', 'platform', 'duplicate', 'payment', 'payment:x', '2026-11-01', 'r', now(), '2026-11-01',
        'r', now(), 'open', '{}', now())`,
      "insert into recon_runs (run_id) values ('x')",
      'delete from recon_break_sightings',
      'select * from migrations',
      'create table console_scratch (x int)',
      'truncate recon_break_events',
    ])
      await expect(consoleSql.unsafe(statement), statement).rejects.toMatchObject(PERMISSION_DENIED);
  });
});
