// Applies packages/core/migrations with ley (driver-agnostic, forward files, one transaction per run).
// The same call runs locally on `npm start`, in tests, and in the migration Lambda on every deploy.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { up } from 'ley';
import type { Sql } from './db.ts';

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
