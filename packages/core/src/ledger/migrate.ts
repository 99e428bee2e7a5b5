// Applies packages/core/migrations with ley (driver-agnostic, forward files, one transaction per run).
// The same call runs locally on `npm start`, in tests, and in the migration Lambda on every deploy.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { up } from 'ley';
import type { Sql } from './db.ts';
import { LedgerError } from './status.ts';

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

const TABLE = `create table if not exists migrations (
  id serial primary key, name varchar(255) not null, created_at timestamp not null)`;

/** A ley driver that uses our own client (pool settings, IAM password function) instead of opening its own. */
function driverFor(sql: Sql) {
  return {
    connect: () => sql,
    setup: async (client: Sql) => {
      await client.unsafe(TABLE);
      return client.unsafe('select name from migrations order by id asc');
    },
    loop: (client: Sql, files: { name: string; abs: string }[], method: 'up' | 'down') =>
      client.begin(async (tx) => {
        for (const file of files) {
          const migration = await import(pathToFileURL(file.abs).href);
          await migration[method]?.(tx);
          if (method === 'up')
            await tx.unsafe('insert into migrations (name, created_at) values ($1, now())', [file.name]);
          else await tx.unsafe('delete from migrations where name = $1', [file.name]);
        }
      }),
    end: async () => {}, // the caller owns the pool
  };
}

/** Returns the names of the migrations it applied (empty when the schema is current). */
export async function migrate(
  sql: Sql,
  dir = process.env.MIGRATIONS_DIR ?? DEFAULT_MIGRATIONS_DIR,
): Promise<string[]> {
  return up({ dir, cwd: '/', driver: driverFor(sql) as never });
}

/** The login roles migrations 0006 and 0018 create; the stacks register one proxy secret for each. */
export const DATABASE_ROLES = {
  app: 'payhooks_app',
  readonly: 'payhooks_readonly',
  // The console API (migration 0018-consoleaws-console-role): reads, plus break actions and their audit rows.
  console: 'payhooks_console',
} as const;

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const VERIFIER = /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677, what psql's \password sends):
 * the server, its statement log and pg_stat_statements see this, never the password.
 */
export function scramVerifier(password: string, salt = randomBytes(16)): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, 4096, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$4096:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * Sets a login role's password to a secret's value. ALTER ROLE takes no bind parameters, so the statement is
 * built from a checked identifier and a verifier made of base64 characters only (nothing to escape).
 */
export async function setRolePassword(sql: Sql, role: string, password: string): Promise<void> {
  if (!ROLE_NAME.test(role))
    throw new LedgerError('LEDGER_BAD_ROLE_NAME', 'database role name must be a lowercase identifier');
  if (password.length < 16)
    throw new LedgerError('LEDGER_WEAK_ROLE_PASSWORD', `the password for database role ${role} is too short`);
  const verifier = scramVerifier(password);
  if (!VERIFIER.test(verifier)) throw new LedgerError('LEDGER_BAD_VERIFIER', 'unexpected SCRAM verifier');
  await sql.unsafe(`alter role "${role}" with login password '${verifier}'`);
}
