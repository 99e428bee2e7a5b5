// The database the benchmark runs on: the project's embedded PostgreSQL (startLocalPostgres with fast: false —
// fsync and synchronous_commit on, as `npm start` runs it) in a throw-away data directory, and helpers to make
// one fresh migrated database per measurement (cloned from a migrated template, so migrations are not timed).
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSql, migrate } from '@payhooks/core/ledger';
import { startLocalPostgres } from '@payhooks/local/postgres';

export interface BenchPostgres {
  adminUrl: string;
  stop(): Promise<void>;
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-bench-pg-'));
  await chmod(dir, 0o755); // initdb runs as the postgres user when we are root
  const port = 56_000 + Math.floor(Math.random() * 4000);
  const postgres = await startLocalPostgres({
    dataDir: path.join(dir, 'data'),
    port,
    fast: false,
    persistent: false,
  });
  return {
    adminUrl: postgres.url,
    async stop() {
      await postgres.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const urlFor = (adminUrl: string, database: string) => adminUrl.replace(/\/[^/]*$/, `/${database}`);

/** A migrated template database; `fresh()` clones it (create database … template), `dropAll()` cleans up. */
export async function ledgerDatabases(adminUrl: string) {
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  const template = `${prefix}_template`;
  const created: string[] = [];
  const admin = createSql({ url: adminUrl, max: 1, applicationName: 'bench-admin' });
  await admin.unsafe(`create database ${template}`);
  created.push(template);
  const setup = createSql({ url: urlFor(adminUrl, template), max: 1, applicationName: 'bench-admin' });
  await migrate(setup);
  await setup.end();
  let n = 0;
  return {
    async fresh(): Promise<string> {
      const name = `${prefix}_${n++}`;
      await admin.unsafe(`create database ${name} template ${template}`);
      created.push(name);
      return urlFor(adminUrl, name);
    },
    async drop(url: string): Promise<void> {
      const name = url.slice(url.lastIndexOf('/') + 1);
      await admin.unsafe(`drop database if exists ${name} with (force)`);
    },
    async dropAll(): Promise<void> {
      for (const name of created.reverse())
        await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
