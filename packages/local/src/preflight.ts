// Checks before anything runs: every configuration problem `npm start`, the CLI and `payhooks doctor` can find
// without starting the stack, one line each naming the variable or file. A check is a named function from the
// context to its problems; `localChecks` is the list `npm start` runs, and the doctor appends its own to a copy.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
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
import { isPostgresOf } from './postgres.ts';
import { isAlive, processStartTime } from './process-info.ts';

export type { ConfigProblem } from '@payhooks/functions/config';

export interface PreflightContext {
  env: Env;
  /** The resolved state folder (PAYHOOKS_STATE_DIR or `.payhooks`). */
  stateDir: string;
  /** 'start': this process is about to start the stack and holds the folder's lock; 'inspect': CLI and doctor. */
  purpose: 'start' | 'inspect';
}

export interface PreflightCheck {
  name: string;
  run(context: PreflightContext): Promise<ConfigProblem[]>;
}

export type CheckedProblem = ConfigProblem & { check: string };

/** Runs the checks one after another; a check that throws is a problem of its own, never a stack trace. */
export async function runPreflight(
  checks: readonly PreflightCheck[],
  context: PreflightContext,
): Promise<CheckedProblem[]> {
  const problems: CheckedProblem[] = [];
  for (const check of checks) {
    try {
      for (const problem of await check.run(context)) problems.push({ check: check.name, ...problem });
    } catch (error) {
      problems.push({
        check: check.name,
        subject: check.name,
        message: `check ${check.name} failed: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  return problems;
}

export const environmentCheck: PreflightCheck = {
  name: 'environment',
  run: async ({ env }) => checkEnvironmentValues(env),
};

/** WECHATPAY_MERCHANTS_FILE (or the inline WECHATPAY_MERCHANTS) must be readable and a valid document. */
export const merchantsCheck: PreflightCheck = {
  name: 'wechatpay-merchants',
  async run({ env }) {
    const file = env.WECHATPAY_MERCHANTS_FILE;
    const source = file
      ? { file: path.resolve(file) }
      : env.WECHATPAY_MERCHANTS
        ? { document: env.WECHATPAY_MERCHANTS }
        : undefined;
    if (!source) return [];
    const subject = file ? 'WECHATPAY_MERCHANTS_FILE' : 'WECHATPAY_MERCHANTS';
    try {
      const registry = await loadMerchants(source);
      if (registry.merchants.length === 0)
        return [{ subject, message: `${subject}${file ? ` ${file}` : ''} lists no merchants` }];
      return [];
    } catch (error) {
      if (!(error instanceof PayhooksError)) throw error;
      const reason = error.message.replace(/^WECHATPAY_MERCHANTS_FILE \S+ /, '');
      return [{ subject, message: `${subject}${file ? ` ${file}` : ''}: ${reason}` }];
    }
  },
};

/** DATABASE_URL, when set and well-formed, must answer: a wrong host, port, password or database is named. */
export const databaseCheck: PreflightCheck = {
  name: 'database',
  async run({ env }) {
    const url = env.DATABASE_URL;
    if (!url || checkDatabaseUrl(url).length > 0) return [];
    const where = (() => {
      const parsed = new URL(url);
      return `${parsed.hostname}:${parsed.port || 5432}/${parsed.pathname.slice(1) || '(default database)'}`;
    })();
    const sql = createSql({ url, max: 1, applicationName: 'payhooks-preflight' });
    try {
      await Promise.race([
        sql`select 1`,
        new Promise((_, reject) =>
          setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })), 8000).unref(),
        ),
      ]);
      return [];
    } catch (error) {
      return [
        { subject: 'DATABASE_URL', message: `DATABASE_URL (${where}): ${describeDatabaseError(error)}` },
      ];
    } finally {
      await sql.end({ timeout: 1 }).catch(() => {});
    }
  },
};

/** Resolves true if 127.0.0.1:port can be listened on now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The local stack holding the folder, if one runs (payhooks.lock names a live process). */
export function runningHolder(stateDir: string): { pid: number } | undefined {
  try {
    const holder = JSON.parse(readFileSync(path.join(stateDir, 'payhooks.lock'), 'utf8')) as {
      pid: number;
      startTime?: string;
    };
    if (!Number.isInteger(holder.pid) || !isAlive(holder.pid)) return undefined;
    const now = processStartTime(holder.pid);
    return holder.startTime === undefined || now === undefined || now === holder.startTime
      ? { pid: holder.pid }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Before a start: PORT and (embedded Postgres) PAYHOOKS_PG_PORT are free — except for this folder's own orphan. */
export const portsCheck: PreflightCheck = {
  name: 'ports',
  async run({ env, stateDir, purpose }) {
    if (purpose === 'inspect' && runningHolder(stateDir)) return []; // the running stack holds them
    const problems: ConfigProblem[] = [];
    const wanted: [string, string][] = [['PORT', env.PORT || '3000']];
    if (!env.DATABASE_URL) wanted.push(['PAYHOOKS_PG_PORT', env.PAYHOOKS_PG_PORT || '54320']);
    for (const [name, text] of wanted) {
      const port = Number(text);
      if (!/^\d+$/.test(text) || port === 0 || port > 65_535) continue; // the environment check names it
      if (await portIsFree(port)) continue;
      if (name === 'PAYHOOKS_PG_PORT' && orphanPostmasterHolds(path.join(stateDir, 'pgdata'))) continue;
      problems.push({
        subject: name,
        message: `${name} ${port} is in use by another program: stop it or set ${name} to a free port`,
      });
    }
    return problems;
  },
};

/** A postgres of this very folder is running without its stack: the start stops it (postgres.ts). */
function orphanPostmasterHolds(dataDir: string): boolean {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) && isPostgresOf(pid, dataDir);
  } catch {
    return false;
  }
}

/** For the CLI: local.json must be valid and belong to a stack that still runs (else it points at nothing). */
export const localJsonCheck: PreflightCheck = {
  name: 'local-json',
  async run({ stateDir, purpose, env }) {
    const file = path.join(stateDir, 'local.json');
    if (purpose === 'start' || env.QUEUE_URL || !existsSync(file)) return [];
    return localJsonProblems(file, stateDir);
  },
};

export function localJsonProblems(file: string, stateDir: string): ConfigProblem[] {
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [{ subject: file, message: `${file} is not valid JSON: delete it and run npm start again` }];
  }
  const missing = ['queueUrl', 'dlqUrl', 'sqsEndpoint', 'databaseUrl'].filter(
    (key) => typeof (content as Record<string, unknown>)[key] !== 'string',
  );
  if (missing.length > 0)
    return [
      { subject: file, message: `${file} lacks ${missing.join(', ')}: delete it and run npm start again` },
    ];
  if (!runningHolder(stateDir))
    return [
      {
        subject: file,
        message: `${file} is stale: no local stack runs on ${stateDir} (start one with npm start, or delete the file)`,
      },
    ];
  return [];
}

/** What `npm start` checks before it starts anything (it holds the folder's lock by then). */
export const localChecks: readonly PreflightCheck[] = [
  environmentCheck,
  merchantsCheck,
  databaseCheck,
  portsCheck,
];

/** What `payhooks doctor` adds for the local target (it has the environment and merchants checks of its own). */
export const localDoctorChecks: readonly PreflightCheck[] = [databaseCheck, portsCheck, localJsonCheck];
