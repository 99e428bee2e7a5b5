// The ledger database from the environment: DATABASE_URL (local runtime, CLI) or the RDS Proxy settings the
// stacks set (DB_HOST, DB_PORT, DB_NAME, DB_USER), one connection per container unless DB_MAX_CONNECTIONS says.
import type { Sql } from '@payhooks/core/ledger';
import { createDatabase, type DatabaseOptions } from '../adapters/db.ts';
import { type Env, integer, optional, required } from '../config.ts';

export function databaseOptionsFromEnv(env: Env): DatabaseOptions {
  const maxConnections = integer(env, 'DB_MAX_CONNECTIONS', 1);
  // DATABASE_ROLE (local runtime): the job's role on a superuser URL, as DB_USER is in AWS.
  if (env.DATABASE_URL)
    return {
      url: env.DATABASE_URL,
      maxConnections,
      ...(env.DATABASE_ROLE ? { role: env.DATABASE_ROLE } : {}),
    };
  const host = required(env, 'DB_HOST');
  const port = integer(env, 'DB_PORT', 5432);
  const username = required(env, 'DB_USER');
  const region = optional(env, 'AWS_REGION', 'us-east-1');
  return { host, port, database: required(env, 'DB_NAME'), username, region, maxConnections };
}

export function sqlFromEnv(env: Env, applicationName: string): Sql {
  return createDatabase(databaseOptionsFromEnv(env), applicationName);
}
