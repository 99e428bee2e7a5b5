// Lambda: applies database migrations; invoked on every deploy (and by `npm start` locally).
import { runMigrations } from './wiring/migrate.ts';

export { runMigrations };

export const handler = async (): Promise<{ applied: string[] }> => runMigrations(process.env);
