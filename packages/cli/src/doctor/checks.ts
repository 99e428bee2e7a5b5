// `payhooks doctor`'s checks: a list of named checks, each from the context to its problems (one line each, naming
// the variable or file, never a secret). The list is open: a part with settings of its own appends a check with
// `addDoctorCheck` (e.g. a stage's keys and parameters) in the module that owns them. `targets` says where a check
// applies: against the local stack (no QUEUE_URL, `.payhooks/local.json`) or a deployed stage (QUEUE_URL set).
import path from 'node:path';
import { PayhooksError } from '@payhooks/core/errors';
import { createSql } from '@payhooks/core/ledger';
import {
  type ConfigProblem,
  checkDatabaseUrl,
  checkEnvironmentValues,
  describeDatabaseError,
  type Env,
} from '@payhooks/functions/config';
import { loadMerchants } from '@payhooks/functions/wiring/merchants';

export type DoctorTarget = 'local' | 'stage';

export interface DoctorContext {
  env: Env;
  /** The resolved local state folder (PAYHOOKS_STATE_DIR or `.payhooks`). */
  stateDir: string;
  target: DoctorTarget;
}

export interface DoctorCheck {
  name: string;
  targets: readonly DoctorTarget[];
  run(context: DoctorContext): Promise<ConfigProblem[]>;
}

const checks: DoctorCheck[] = [];

/** Appends a check; it runs after the ones already listed. */
export function addDoctorCheck(check: DoctorCheck): void {
  checks.push(check);
}

export function doctorChecks(target: DoctorTarget): DoctorCheck[] {
  return checks.filter((check) => check.targets.includes(target));
}

addDoctorCheck({
  name: 'environment',
  targets: ['local', 'stage'],
  run: async ({ env }) => checkEnvironmentValues(env),
});

addDoctorCheck({
  name: 'wechatpay-merchants',
  targets: ['local', 'stage'],
  async run({ env }) {
    const file = env.WECHATPAY_MERCHANTS_FILE;
    const source = file
      ? { file: path.resolve(file) }
      : env.WECHATPAY_MERCHANTS
        ? { document: env.WECHATPAY_MERCHANTS }
        : undefined;
    if (!source) return [];
    const subject = file ? 'WECHATPAY_MERCHANTS_FILE' : 'WECHATPAY_MERCHANTS';
    const where = file ? `${subject} ${path.resolve(file)}` : subject;
    try {
      const registry = await loadMerchants(source);
      return registry.merchants.length === 0 ? [{ subject, message: `${where} lists no merchants` }] : [];
    } catch (error) {
      if (!(error instanceof PayhooksError)) throw error;
      return [
        { subject, message: `${where}: ${error.message.replace(/^WECHATPAY_MERCHANTS_FILE \S+ /, '')}` },
      ];
    }
  },
});

addDoctorCheck({
  name: 'database',
  targets: ['stage'], // locally DATABASE_URL is the stack's choice; the local checks test local.json's database
  run: async ({ env }) => databaseProblems(env.DATABASE_URL, 'DATABASE_URL'),
});

/** The database answers `select 1`: a wrong host, port, password or database name is said so, the URL never. */
export async function databaseProblems(url: string | undefined, subject: string): Promise<ConfigProblem[]> {
  if (!url || checkDatabaseUrl(url).length > 0) return [];
  const parsed = new URL(url);
  const where = `${parsed.hostname}:${parsed.port || 5432}/${parsed.pathname.slice(1) || '(default)'}`;
  const sql = createSql({ url, max: 1, applicationName: 'payhooks-doctor' });
  try {
    await Promise.race([
      sql`select 1`,
      new Promise((_, reject) =>
        setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })), 8000).unref(),
      ),
    ]);
    return [];
  } catch (error) {
    return [{ subject, message: `${subject} (${where}): ${describeDatabaseError(error)}` }];
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}
