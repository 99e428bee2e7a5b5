// Database roles on real PostgreSQL: after the migrations, the application role writes rows but has no DDL, and
// the read-only role reads but cannot write; both log in with the password set from a secret's value.
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSql,
  DATABASE_ROLES,
  type Sql,
  scramVerifier,
  setRolePassword,
} from '../../src/ledger/index.ts';

let db: TestDatabase;
let app: Sql;
let readonly: Sql;

const asRole = (role: string, password: string) => {
  const url = new URL(db.url);
  url.username = role;
  url.password = password;
  return createSql({ url: url.toString(), max: 1 });
};

beforeAll(async () => {
  db = await createTestDatabase();
  const appPassword = randomBytes(24).toString('base64url');
  const readonlyPassword = randomBytes(24).toString('base64url');
  await setRolePassword(db.sql, DATABASE_ROLES.app, appPassword);
  await setRolePassword(db.sql, DATABASE_ROLES.readonly, readonlyPassword);
  app = asRole(DATABASE_ROLES.app, appPassword);
  readonly = asRole(DATABASE_ROLES.readonly, readonlyPassword);
});
afterAll(async () => {
  await app?.end();
  await readonly?.end();
  await db?.drop();
});

const PERMISSION_DENIED = { code: '42501' };

const insertPayment = (sql: Sql, id: string) => sql`
  insert into payments (provider, provider_payment_id, amount_minor, currency, status, status_rank,
    first_seen_at, updated_at, last_event_id, version)
  values ('stripe', ${id}, 500, 'usd', 'pending', 1, now(), now(), 'evt_1', '1')`;

describe('the application role', () => {
  it('logs in as itself, not as the owner', async () => {
    const [row] = await app`select current_user as user`;
    expect(row?.user).toBe(DATABASE_ROLES.app);
  });

  it('inserts, updates, copies into and deletes from the ledger and recon tables', async () => {
    await insertPayment(app, 'pi_app');
    await app`update payments set status = 'succeeded', status_rank = 3 where provider_payment_id = 'pi_app'`;
    await app`insert into inbox_events (provider, event_id, event_type, occurred_at, received_at, outcome, raw_payload)
      values ('stripe', 'evt_app', 't', now(), now(), 'applied', '{}')`;
    await app`delete from inbox_events where event_id = 'evt_app'`;
    await app`insert into stripe.charges (id, data, first_seen_at, updated_at, last_event_id, version)
      values ('ch_app', '{}', now(), now(), 'evt_1', '1')`;
    const [row] = await app`select status from payments where provider_payment_id = 'pi_app'`;
    expect(row?.status).toBe('succeeded');
    // The recon staging is loaded with COPY ... FROM STDIN (needs INSERT only).
    const stream = await app`copy recon_lines (run_id) from stdin with (format csv)`.writable();
    await new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.on('finish', resolve);
      stream.end();
    });
  });

  it.each([
    ['alter table', 'alter table payments add column note text'],
    ['create table', 'create table evil (id int)'],
    ['create table in stripe', 'create table stripe.evil (id int)'],
    ['drop table', 'drop table payments'],
    ['truncate', 'truncate payments'],
    [
      'write the migrations table',
      "insert into migrations (name, created_at) values ('9999-evil.mjs', now())",
    ],
    ['create a role', 'create role evil'],
  ])('cannot %s (permission denied)', async (_name, statement) => {
    await expect(app.unsafe(statement)).rejects.toMatchObject(PERMISSION_DENIED);
  });
});

describe('the read-only role', () => {
  it('selects from the ledger, the Stripe mirror and recon tables', async () => {
    await insertPayment(db.sql, 'pi_ro');
    const rows = await readonly`select provider_payment_id from payments where provider_payment_id = 'pi_ro'`;
    expect(rows).toHaveLength(1);
    await readonly`select count(*) from stripe.charges`;
    await readonly`select count(*) from recon_runs`;
  });

  it.each([
    ['insert', () => insertPayment(readonly, 'pi_ro_2')],
    ['update', () => readonly`update payments set status = 'failed' where provider_payment_id = 'pi_ro'`],
    ['delete', () => readonly`delete from payments`],
    ['delete from a mirror', () => readonly`delete from stripe.charges`],
    ['alter table', () => readonly`alter table payments add column note text`],
    ['create table', () => readonly`create table evil (id int)`],
  ])('cannot %s (permission denied)', async (_name, statement) => {
    await expect(statement()).rejects.toMatchObject(PERMISSION_DENIED);
  });
});

describe('grants of later migrations', () => {
  it('a table created by the owner after 0006 gets the same grants (default privileges)', async () => {
    await db.sql`create table later_table (id int primary key)`;
    await app`insert into later_table (id) values (1)`;
    expect(await readonly`select id from later_table`).toHaveLength(1);
    await expect(readonly`insert into later_table (id) values (2)`).rejects.toMatchObject(PERMISSION_DENIED);
    await expect(app`drop table later_table`).rejects.toMatchObject(PERMISSION_DENIED);
    await db.sql`drop table later_table`;
  });

  it('the roles migration is idempotent: a second database of the cluster migrates with the roles present', async () => {
    const second = await createTestDatabase();
    try {
      const [row] =
        await second.sql`select count(*)::int as n from pg_roles where rolname in (${DATABASE_ROLES.app}, ${DATABASE_ROLES.readonly})`;
      expect(row?.n).toBe(2);
    } finally {
      await second.drop();
    }
    const [row] = await app`select current_user as user`;
    expect(row?.user).toBe(DATABASE_ROLES.app);
  });
});

describe('setRolePassword', () => {
  it('sends a SCRAM verifier, not the password', () => {
    const verifier = scramVerifier('correct horse battery staple');
    expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(verifier).not.toContain('horse');
  });

  it('refuses a role name that is not a plain identifier and a short password', async () => {
    await expect(
      setRolePassword(db.sql, 'x"; drop table payments; --', 'a'.repeat(32)),
    ).rejects.toMatchObject({
      code: 'LEDGER_BAD_ROLE_NAME',
    });
    await expect(setRolePassword(db.sql, DATABASE_ROLES.app, 'short')).rejects.toMatchObject({
      code: 'LEDGER_WEAK_ROLE_PASSWORD',
    });
  });
});
