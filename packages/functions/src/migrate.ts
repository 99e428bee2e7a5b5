// Lambda: applies database migrations; invoked on every deploy (and by `npm start` locally).
import { migrate } from '@payhooks/core/ledger/migrate';
import { createLogger } from '@payhooks/core/logger';
import { sqlFromEnv } from './adapters/db.ts';
import type { Env } from './config.ts';

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

export const handler = async (): Promise<{ applied: string[] }> => runMigrations(process.env);
