// Migration 0024's recon_analyze_lines() on real PostgreSQL: the reconciliation role (payhooks_app, which does not
// own recon_lines) gets fresh statistics through it, where its own ANALYZE is skipped.
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, DATABASE_ROLES, type Sql } from '../../src/ledger/index.ts';

let db: TestDatabase;
let appSql: Sql;

const reltuples = async () => {
  const [row] = await db.sql<{ reltuples: number }[]>`
    select reltuples::float8 as reltuples from pg_class where oid = 'public.recon_lines'::regclass`;
  return row!.reltuples;
};

beforeAll(async () => {
  db = await createTestDatabase();
  appSql = createSql({ url: db.url, max: 1, role: DATABASE_ROLES.app });
  // Autovacuum could analyze the table between the two statements of the first test.
  await db.sql`alter table recon_lines set (autovacuum_enabled = false)`;
  await db.sql`
    insert into recon_lines (run_id, source, line_no, kind, amount_minor, currency)
    select 'run-analyze', 'trade', n, 'payment', n * 100, 'CNY' from generate_series(1, 500) n`;
});
afterAll(async () => {
  await appSql?.end();
  await db?.drop();
});

describe('recon_analyze_lines()', () => {
  it('gives the reconciliation role statistics its own ANALYZE cannot', async () => {
    await appSql`analyze recon_lines`; // skipped with a warning: not the owner
    expect(await reltuples()).toBeLessThan(0);
    await appSql`select recon_analyze_lines()`;
    expect(await reltuples()).toBe(500);
  });

  it('is not executable by the read-only role', async () => {
    const readonly = createSql({ url: db.url, max: 1, role: DATABASE_ROLES.readonly });
    try {
      await expect(readonly`select recon_analyze_lines()`).rejects.toMatchObject({ code: '42501' });
    } finally {
      await readonly.end();
    }
  });
});
