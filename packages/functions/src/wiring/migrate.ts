// Applies the ledger migrations with the database from the environment (the migrate Lambda, `npm start`).
import { migrate } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import type { Env } from '../config.ts';
import { sqlFromEnv } from './db.ts';

export async function runMigrations(env: Env): Promise<{ applied: string[] }> {
  const sql = sqlFromEnv(env, 'payhooks-migrate');
  try {
    const applied = await migrate(sql, env.MIGRATIONS_DIR || undefined);
    createLogger({ name: 'migrate' }).info('migrations applied', { applied });
    return { applied };
  } finally {
    await sql.end();
  }
}
