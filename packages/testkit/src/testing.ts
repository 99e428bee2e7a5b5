// Test support on real parts: one embedded Postgres per test run (started by the global setup), a fresh
// migrated database per test file, and a log sink tests can read.
import { randomBytes } from 'node:crypto';
import { ConfigError } from '@payhooks/core/errors';
import { createSql, migrate, type Sql } from '@payhooks/core/ledger';

export const TEST_PG_ENV = 'PAYHOOKS_TEST_PG_URL';

export interface TestDatabase {
  url: string;
  sql: Sql;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env[TEST_PG_ENV];
  if (!url)
    throw new ConfigError(
      'TEST_PG_MISSING',
      `${TEST_PG_ENV} is not set: run tests through vitest (its global setup starts Postgres)`,
    );
  return url;
}

export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = createSql({ url: adminUrl(), max: 1 });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = adminUrl().replace(/\/[^/]*$/, `/${name}`);
  const sql = createSql({ url, max: 4 });
  if (options.migrate !== false) await migrate(sql);
  return {
    url,
    sql,
    async drop() {
      await sql.end();
      const cleanup = createSql({ url: adminUrl(), max: 1 });
      await cleanup.unsafe(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}
