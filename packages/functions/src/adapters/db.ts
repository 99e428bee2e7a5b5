// Database connection from the environment: a URL locally, RDS Proxy with IAM auth tokens and TLS in AWS
// (no password ever sits in an environment variable).
import { Signer } from '@aws-sdk/rds-signer';
import { createSql, type Sql } from '@payhooks/core/ledger/db';
import { type Env, integer, optional, required } from '../config.ts';

export function sqlFromEnv(env: Env, applicationName: string): Sql {
  const max = integer(env, 'DB_MAX_CONNECTIONS', 1);
  if (env.DATABASE_URL) return createSql({ url: env.DATABASE_URL, max, applicationName });
  const host = required(env, 'DB_HOST');
  const port = integer(env, 'DB_PORT', 5432);
  const username = required(env, 'DB_USER');
  const signer = new Signer({
    hostname: host,
    port,
    username,
    region: optional(env, 'AWS_REGION', 'us-east-1'),
  });
  return createSql({
    host,
    port,
    database: required(env, 'DB_NAME'),
    username,
    password: () => signer.getAuthToken(),
    ssl: { rejectUnauthorized: true },
    max,
    applicationName,
  });
}
