// The migrate function's role step on real PostgreSQL: role passwords come from the role secrets (a reader standing
// in for Secrets Manager), the roles then log in with them, and a bad secret fails in one line without its value.
import { randomBytes } from 'node:crypto';
import { createSql, DATABASE_ROLES } from '@payhooks/core/ledger';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../src/wiring/migrate.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
});
afterAll(async () => db?.drop());

const APP_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:payhooks/test/database/app';
const RO_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:payhooks/test/database/readonly';

describe('runMigrations with DB_ROLE_SECRET_ARNS', () => {
  it('migrates, then each role logs in with the password from its secret', async () => {
    const passwords = { app: randomBytes(24).toString('hex'), readonly: randomBytes(24).toString('hex') };
    const secrets = new Map([
      [APP_ARN, JSON.stringify({ username: DATABASE_ROLES.app, password: passwords.app })],
      [RO_ARN, JSON.stringify({ username: DATABASE_ROLES.readonly, password: passwords.readonly })],
    ]);
    const result = await runMigrations(
      { DATABASE_URL: db.url, DB_ROLE_SECRET_ARNS: `${APP_ARN},${RO_ARN}` },
      { readSecret: async (id) => secrets.get(id) ?? '' },
    );
    expect(result.applied).toContain('0006-roles.mjs');
    expect(result.roles).toEqual([DATABASE_ROLES.app, DATABASE_ROLES.readonly]);

    const url = new URL(db.url);
    url.username = DATABASE_ROLES.readonly;
    url.password = passwords.readonly;
    const readonly = createSql({ url: url.toString(), max: 1 });
    try {
      const [row] = await readonly`select current_user as user, count(*)::int as n from payments`;
      expect(row).toEqual({ user: DATABASE_ROLES.readonly, n: 0 });
    } finally {
      await readonly.end();
    }
  });

  it('refuses a secret for a user that is not a payhooks role, without echoing the secret', async () => {
    const password = randomBytes(24).toString('hex');
    const run = runMigrations(
      { DATABASE_URL: db.url, DB_ROLE_SECRET_ARNS: APP_ARN },
      { readSecret: async () => JSON.stringify({ username: 'postgres', password }) },
    );
    await expect(run).rejects.toMatchObject({ code: 'DB_ROLE_SECRET_INVALID' });
    await expect(run).rejects.not.toThrow(password);
  });
});
