// Starts one embedded Postgres for the whole unit test run; each test file creates its own database.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TEST_PG_ENV } from '@payhooks/testkit/testing';
import { startLocalPostgres } from '../src/postgres.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-test-pg-'));
  await chmod(dir, 0o755); // initdb runs as the postgres user when we are root
  const port = 55_000 + Math.floor(Math.random() * 5000);
  const postgres = await startLocalPostgres({
    dataDir: path.join(dir, 'data'),
    port,
    fast: true,
    persistent: false,
  });
  process.env[TEST_PG_ENV] = postgres.url;
  return async () => {
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
