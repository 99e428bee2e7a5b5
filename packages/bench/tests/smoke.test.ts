// Smoke run of every benchmark case at tiny sizes on the test run's PostgreSQL: checks that each case runs end to
// end and returns well-formed results. No timing assertions — benchmarks are not timed unit tests.
import { describe, expect, it } from 'vitest';
import { CASES } from '../src/cases/index.ts';
import { runBench } from '../src/run.ts';
import { formatMarkdown, formatTable } from '../src/table.ts';
import type { BenchRow } from '../src/types.ts';

const positiveFinite = (value: number) => Number.isFinite(value) && value > 0;

function expectWellFormed(row: BenchRow): void {
  expect(row.id).toMatch(/^\d /);
  expect(row.unit.length).toBeGreaterThan(0);
  expect(positiveFinite(row.measured), `${row.id} measured ${row.measured}`).toBe(true);
  if (row.baseline !== null) {
    expect(positiveFinite(row.baseline), `${row.id} baseline ${row.baseline}`).toBe(true);
    expect(positiveFinite(row.ratio ?? Number.NaN), `${row.id} ratio ${row.ratio}`).toBe(true);
  } else {
    expect(row.ratio).toBeNull();
  }
  expect(row.samples.length).toBeGreaterThan(0);
  for (const sample of row.samples) expect(positiveFinite(sample), `${row.id} sample ${sample}`).toBe(true);
  if (row.target) expect(typeof row.pass).toBe('boolean');
  else expect(row.pass).toBeNull();
}

describe('npm run bench (tiny sizes)', () => {
  it('runs every case and returns positive finite figures', async () => {
    // Prepare: the vitest global setup started PostgreSQL and exported its admin URL.
    const pgAdminUrl = process.env.PAYHOOKS_TEST_PG_URL;
    expect(pgAdminUrl).toBeTruthy();

    // Act: every case but 7 (case 8 runs here at tiny sizes), which has its own test below (it runs two whole stacks per pair).
    const cases = CASES.map((c) => c.id).filter((id) => id !== 7);
    const report = await runBench({ cases, quick: false, tiny: true, pgAdminUrl });

    // Assess
    expect(report.mode).toBe('tiny');
    expect(report.cases.map((c) => c.case)).toEqual([1, 2, 3, 4, 5, 6, 8]);
    for (const result of report.cases) {
      expect(result.rows.length).toBeGreaterThan(0);
      expect(result.measuredIncludes.length).toBeGreaterThan(20);
      expect(result.baselineIncludes.length).toBeGreaterThan(20);
      expect(positiveFinite(result.durationMs)).toBe(true);
      for (const row of result.rows) expectWellFormed(row);
    }
    const consumer = report.cases.find((c) => c.case === 3)!;
    const burst = consumer.details.burst as { peakConnections: number };
    expect(burst.peakConnections).toBeGreaterThan(0);
    const recon = report.cases.find((c) => c.case === 5)!;
    expect(recon.details.stages).toMatchObject({
      download: true,
      parse: true,
      copyToStaging: true,
      match: true,
      report: true,
    });
    const orders = report.cases.find((c) => c.case === 8)!;
    expect(orders.details.seqScansOnBigTables).toBe(0);
    expect(orders.details.plan).toEqual(
      expect.arrayContaining([expect.objectContaining({ relation: 'payments', index: expect.any(String) })]),
    );
    expect(formatTable(report.cases).split('\n').length).toBe(2 + report.cases.flatMap((c) => c.rows).length);
    expect(formatMarkdown(report.cases)).toContain('| case |');
  }, 240_000); // a hang guard, not a timing: six cases at tiny sizes take ≈ 30 s on a quiet machine, 100 s loaded

  it('runs case 7 (end to end against the synchronous baseline) with well-formed rows', async () => {
    // Prepare
    const pgAdminUrl = process.env.PAYHOOKS_TEST_PG_URL;
    expect(pgAdminUrl).toBeTruthy();

    // Act
    const report = await runBench({ cases: [7], quick: false, tiny: true, pgAdminUrl });

    // Assess
    const [endToEnd] = report.cases;
    expect(endToEnd?.case).toBe(7);
    expect(endToEnd!.measuredIncludes.length).toBeGreaterThan(20);
    expect(endToEnd!.baselineIncludes.length).toBeGreaterThan(20);
    for (const row of endToEnd!.rows) expectWellFormed(row);
    const ids = endToEnd!.rows.map((r) => r.id);
    for (const figure of [
      'events/s end to end',
      'CPU per delivery',
      'HTTP req/s',
      'lag p50',
      'lag p95',
      'lag p99',
    ]) {
      expect(ids).toContain(`7 stripe c16 ${figure}`);
      expect(ids).toContain(`7 wechatpay c64 ${figure}`);
    }
    const run = (key: string) =>
      (
        endToEnd!.details[key] as {
          runs: { baseline: { objectsStored: number }; payhooks: { lateStamped: number } }[];
        }
      ).runs[0]!;
    expect(run('stripe-c16').baseline.objectsStored).toBeGreaterThan(0);
    expect(run('wechatpay-c64').payhooks.lateStamped).toBeGreaterThanOrEqual(0);
    // A hang guard, not a timing assertion: about 20 s on a quiet 2-vCPU machine, minutes on a loaded one.
  }, 300_000);
});
