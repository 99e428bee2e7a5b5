// Lambda: applies database migrations and sets the login roles' passwords from their secrets; invoked on every
// deploy (and by `npm start` locally, where no role secrets are set).
import { runMigrations } from './wiring/migrate.ts';

export { runMigrations };

export const handler = async (): Promise<{ applied: string[]; roles: string[] }> =>
  runMigrations(process.env);
