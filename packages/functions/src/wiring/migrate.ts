// Applies the ledger migrations with the database from the environment (the migrate Lambda, `npm start`), then,
// in AWS, sets the login roles' passwords to their Secrets Manager secrets (DB_ROLE_SECRET_ARNS, which only the
// migrate function may read) so the RDS Proxy can log in as each role. Passwords go to Postgres as SCRAM
// verifiers and never into a log line or an error.

import { ConfigError } from '@payhooks/core/errors';
import { DATABASE_ROLES, migrate, type Sql, setRolePassword } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import { type Env, list } from '../config.ts';
import { sqlFromEnv } from './db.ts';

/** Reads one secret's string value (Secrets Manager in AWS; a map in tests). */
export type SecretReader = (secretId: string) => Promise<string>;

const ROLES: readonly string[] = Object.values(DATABASE_ROLES);

async function secretsManagerReader(): Promise<SecretReader> {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  return async (secretId) => {
    const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!answer.SecretString)
      throw new ConfigError('DB_ROLE_SECRET_EMPTY', `database role secret ${secretId} has no string value`);
    return answer.SecretString;
  };
}

/** The {username, password} JSON that rds.DatabaseSecret generates and the RDS Proxy reads. */
function parseRoleSecret(secretId: string, text: string): { username: string; password: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError('DB_ROLE_SECRET_INVALID', `database role secret ${secretId} is not JSON`);
  }
  const { username, password } = (value ?? {}) as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || typeof password !== 'string')
    throw new ConfigError(
      'DB_ROLE_SECRET_INVALID',
      `database role secret ${secretId} needs string fields username and password`,
    );
  if (!ROLES.includes(username))
    throw new ConfigError(
      'DB_ROLE_SECRET_INVALID',
      `database role secret ${secretId} names user ${username}, expected one of ${ROLES.join(', ')}`,
    );
  return { username, password };
}

/** Sets each role's password from its secret; returns the roles set. */
export async function syncRolePasswords(
  sql: Sql,
  secretIds: readonly string[],
  readSecret: SecretReader,
): Promise<string[]> {
  const roles: string[] = [];
  for (const secretId of secretIds) {
    const { username, password } = parseRoleSecret(secretId, await readSecret(secretId));
    await setRolePassword(sql, username, password);
    roles.push(username);
  }
  return roles;
}

export async function runMigrations(
  env: Env,
  options: { readSecret?: SecretReader } = {},
): Promise<{ applied: string[]; roles: string[] }> {
  const secretIds = list(env.DB_ROLE_SECRET_ARNS ?? '');
  const sql = sqlFromEnv(env, 'payhooks-migrate');
  try {
    const applied = await migrate(sql, env.MIGRATIONS_DIR || undefined);
    const roles =
      secretIds.length === 0
        ? []
        : await syncRolePasswords(sql, secretIds, options.readSecret ?? (await secretsManagerReader()));
    createLogger({ name: 'migrate' }).info('migrations applied', { applied, roles });
    return { applied, roles };
  } finally {
    await sql.end();
  }
}
