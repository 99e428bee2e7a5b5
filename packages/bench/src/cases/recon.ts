// Case 5 — reconciliation of a 1,000,000-row WeChat Pay trade bill end to end, through the production pipeline:
// the day is registered in the provider API sandbox (packages/local/src/sandbox, which writes the trade bill with
// the project's bill writer and serves it gzip with its SHA-1 behind signed /v3/bill/tradebill + download
// endpoints), the ledger holds the matching payments and refunds (COPYed before timing, a few rows differing on
// purpose), and a fresh node process runs `reconcile()` with `wechatpaySource` over the real WechatpayClient:
// download → gunzip + SHA-1 → parse → COPY into recon_lines → matching SQL → healing through the sandbox's query
// API + re-matching → report (summary.json, breaks.csv, matched.csv, latest.json) into a folder object store.
// Baseline: COPY of the same bill rows as a plain CSV into an unlogged staging table, from this process.
import { spawn } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createSql, type Sql } from '@payhooks/core/ledger';
import {
  type ProviderSandbox,
  sandboxMerchantsFromGenerated,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { generateSandboxMerchants, writeMerchantsFile } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { build } from 'esbuild';
import { ledgerDatabases } from '../postgres.ts';
import {
  BUSINESS_DATE,
  type DayPlan,
  expectedCounts,
  PAYMENT_COLUMNS,
  REFUND_COLUMNS,
  registerDay,
  SEED_EVENT_ID,
  STAGING_COLUMNS,
  STAGING_TABLE_SQL,
  writeBaselineCsv,
  writeLedgerCsv,
} from '../recon/bill.ts';
import { pick } from '../sizes.ts';
import { atMost, now, pairedRow, ratioAtMost, settle, valueRow } from '../stats.ts';
import type { CaseOptions, CaseResult } from '../types.ts';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const WORKER_HEAP_MB = 16_384;

interface WorkerResult {
  seconds: number;
  totalSeconds: number;
  providerBuildSeconds: number;
  stagedLines: number;
  counts: Record<string, number>;
  breaks: { total: number; healed: number; unhealed: number; informational: number };
  reportBytes: Record<string, number>;
  stages: { stage: string; ms: number; rssMb: number }[];
  maxRssBytes: number;
  workerCpuSeconds: number;
  backendCpuSeconds: number | null;
  sampledPeakRssMb: number;
}

async function copyFile(sql: Sql, table: string, columns: readonly string[], file: string): Promise<void> {
  const writable = await sql
    .unsafe(`copy ${table} (${columns.join(', ')}) from stdin with (format csv)`)
    .writable();
  await pipeline(createReadStream(file), writable);
}

/** Seconds between consecutive progress stages of the last worker: where the time went. */
function stageSeconds(w: WorkerResult): Record<string, number> {
  // 'file' / 'file-done' come once per source file (trade bill, then the empty fund-flow bill): first / last.
  const at = (stage: string) =>
    (stage === 'file-done' ? w.stages.findLast.bind(w.stages) : w.stages.find.bind(w.stages))(
      (s) => s.stage === stage,
    )?.ms;
  const span = (from: string | number | undefined, to: string | undefined) => {
    const a = typeof from === 'number' ? from : from === undefined ? undefined : at(from);
    const b = to === undefined ? undefined : at(to);
    return a === undefined || b === undefined ? 0 : (b - a) / 1000;
  };
  const healedOrMatched = at('healed') === undefined ? 'matched' : 'healed';
  return {
    claimAndBillRequest: span(0, 'file') - w.providerBuildSeconds,
    providerBuildsBill: w.providerBuildSeconds,
    downloadParseCopy: span('file', 'file-done'),
    /** Includes the load transaction's commit. */
    matching: span('file-done', 'matched'),
    healAndRematch: healedOrMatched === 'healed' ? span('matched', 'healed') : 0,
    report: span(healedOrMatched, 'published'),
  };
}

export async function runRecon(options: CaseOptions): Promise<CaseResult> {
  const started = now();
  const size = pick(options, {
    full: { plan: { rows: 1_000_000, breaksPerClass: 10 }, reps: 2 },
    quick: { plan: { rows: 200_000, breaksPerClass: 10 }, reps: 2 },
    tiny: { plan: { rows: 2000, breaksPerClass: 4 }, reps: 1 },
  });
  // BENCH_RECON_ROWS=<n>: any bill size (a multiple of 200; one repetition above the full size), e.g. the
  // 10,000,000-row bill of issue 15 (docs/benchmarks.md "Running").
  const rowsOverride = process.env.BENCH_RECON_ROWS ? Number(process.env.BENCH_RECON_ROWS) : undefined;
  if (
    rowsOverride !== undefined &&
    (!Number.isSafeInteger(rowsOverride) || rowsOverride <= 0 || rowsOverride % 200 !== 0)
  ) {
    throw new Error(
      `BENCH_RECON_ROWS must be a positive multiple of 200 (got ${process.env.BENCH_RECON_ROWS})`,
    );
  }
  const plan: DayPlan = rowsOverride ? { ...size.plan, rows: rowsOverride } : size.plan;
  const reps = rowsOverride && rowsOverride > 1_000_000 ? 1 : size.reps;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-bench-recon-'));
  const databases = await ledgerDatabases(options.pgAdminUrl);
  const databaseUrl = await databases.fresh();
  const sql = createSql({ url: databaseUrl, max: 1, applicationName: 'bench-baseline' });
  let sandbox: ProviderSandbox | undefined;
  try {
    options.log(`case 5: registering a ${plan.rows.toLocaleString('en-US')}-row day in the provider sandbox`);
    const genStarted = now();
    const generated = await generateSandboxMerchants();
    const config = generated.document.merchants[0]!;
    const merchantsFile = await writeMerchantsFile(path.join(dir, 'merchants.json'), { merchants: [config] });
    sandbox = await startProviderSandbox({
      wechatpay: { merchants: sandboxMerchantsFromGenerated(generated).slice(0, 1) },
    });
    registerDay(sandbox.wechatpay!, config.mchid, plan);
    const csvFile = path.join(dir, 'bill.csv');
    const billRows = await writeBaselineCsv(plan, config.mchid, csvFile);
    const ledger = await writeLedgerCsv(
      plan,
      config.mchid,
      path.join(dir, 'payments.csv'),
      path.join(dir, 'refunds.csv'),
    );
    await copyFile(sql, 'payments', PAYMENT_COLUMNS, path.join(dir, 'payments.csv'));
    await copyFile(sql, 'refunds', REFUND_COLUMNS, path.join(dir, 'refunds.csv'));
    await sql.unsafe('vacuum analyze payments, refunds');
    const generateSeconds = (now() - genStarted) / 1000;
    if (billRows !== plan.rows) throw new Error(`baseline CSV has ${billRows} rows, expected ${plan.rows}`);

    const worker = path.join(dir, 'worker.mjs');
    await build({
      entryPoints: [fileURLToPath(new URL('../recon/worker.ts', import.meta.url))],
      outfile: worker,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      bundle: true,
      minify: true,
      external: ['@aws-sdk/*'],
      banner: {
        js: "import { createRequire as __bench_createRequire } from 'module'; const require = __bench_createRequire(import.meta.url);",
      },
      logLevel: 'error',
    });

    const expected = expectedCounts(plan);
    /** Back to the seeded ledger: no runs, no staged lines, nothing healing added. Not timed. */
    const resetLedger = async () => {
      await sql.unsafe('truncate recon_runs, recon_lines, recon_items, inbox_events');
      await sql.unsafe(`delete from payments where last_event_id <> '${SEED_EVENT_ID}'`);
      await sql.unsafe(`delete from refunds where last_event_id <> '${SEED_EVENT_ID}'`);
      await sql.unsafe('vacuum analyze payments, refunds');
      await sql.unsafe('checkpoint');
    };
    const runPipeline = async (rep: number): Promise<WorkerResult> => {
      await resetLedger();
      const reportsDir = path.join(dir, `reports-${rep}`);
      const input = JSON.stringify({
        sandboxUrl: sandbox!.url,
        merchantsFile,
        databaseUrl,
        reportsDir,
        businessDate: BUSINESS_DATE,
      });
      // spawnSync would block this process, which runs the sandbox: run the worker asynchronously.
      // reconcile() holds every item of the run in memory twice (after healing, for the report): ≈ 6 KiB per bill row
      // at peak. A larger heap than node's default (≈ 4 GiB here) lets the full size finish so its RSS can be reported.
      // BENCH_RECON_PROFILE_DIR=<dir>: the worker writes a V8 CPU profile there (profile before optimising).
      const profile = process.env.BENCH_RECON_PROFILE_DIR
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_RECON_PROFILE_DIR}`]
        : [];
      const child = spawn(
        process.execPath,
        [`--max-old-space-size=${WORKER_HEAP_MB}`, ...profile, worker, input],
        {
          cwd: REPO,
          env: { PATH: process.env.PATH },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      if (code !== 0) {
        // Without the minified source lines Node prints above a stack trace.
        const shown = stderr
          .split('\n')
          .filter((line) => line.length < 400)
          .join('\n');
        throw new Error(`recon worker exited ${code}: ${shown.slice(-3000)}`);
      }
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as WorkerResult;
      await rm(reportsDir, { recursive: true, force: true });
      if (result.stagedLines !== plan.rows) {
        throw new Error(`recon worker staged ${result.stagedLines} lines of ${plan.rows}`);
      }
      const sorted = (counts: Record<string, number>) => JSON.stringify(Object.entries(counts).sort());
      if (sorted(result.counts) !== sorted(expected) || result.breaks.healed !== plan.breaksPerClass) {
        throw new Error(
          `recon worker counted ${JSON.stringify(result.counts)} / ${JSON.stringify(result.breaks)}, expected ${JSON.stringify(expected)} with ${plan.breaksPerClass} healed`,
        );
      }
      return result;
    };
    const runCopy = async (table: string): Promise<number> => {
      await sql.unsafe(STAGING_TABLE_SQL(table));
      const copyStarted = now();
      await copyFile(sql, table, STAGING_COLUMNS, csvFile);
      const seconds = (now() - copyStarted) / 1000;
      const [{ n }] = (await sql.unsafe(`select count(*)::int as n from ${table}`)) as unknown as [
        { n: number },
      ];
      if (n !== plan.rows) throw new Error(`baseline COPY staged ${n} rows of ${plan.rows}`);
      await sql.unsafe(`drop table ${table}`);
      return seconds;
    };

    // Warm-up: page cache for the files, the worker bundle, the table's first extension.
    await runCopy('staging_warm_copy');
    const pairs: { measured: number; baseline: number }[] = [];
    const rss: number[] = [];
    const workerResults: WorkerResult[] = [];
    for (let r = 0; r < reps; r++) {
      await settle(200);
      let m: WorkerResult;
      let b: number;
      if (r % 2 === 0) {
        m = await runPipeline(r);
        b = await runCopy(`staging_copy_${r}`);
      } else {
        b = await runCopy(`staging_copy_${r}`);
        m = await runPipeline(r);
      }
      options.log(
        `case 5 rep ${r + 1}: reconcile ${m.seconds.toFixed(2)} s (+ ${m.providerBuildSeconds.toFixed(2)} s sandbox building the bill; peak RSS ${(m.maxRssBytes / 2 ** 20).toFixed(0)} MiB) vs COPY ${b.toFixed(2)} s`,
      );
      pairs.push({ measured: m.seconds, baseline: b });
      rss.push(m.maxRssBytes / 2 ** 20);
      workerResults.push(m);
    }
    const last = workerResults[workerResults.length - 1]!;
    return {
      case: 5,
      title: `Reconciliation: ${plan.rows.toLocaleString('en-US')}-row WeChat Pay trade bill`,
      measuredIncludes:
        'reconcile() in a fresh node process (esbuild bundle; peak RSS = its maxRSS): claim the run → trade bill ' +
        'request with the real WechatpayClient (signed, answer verified) to the provider API sandbox → streamed gzip ' +
        'download over loopback → gunzip + SHA-1 check → parseTradeBill → COPY into recon_lines in one transaction → ' +
        'matching SQL against a ledger of ~1,000,000 payments/refunds (loaded before timing) → healing of the ' +
        `${plan.breaksPerClass} payments the ledger never heard of (order queries to the sandbox, applyEnvelope) + ` +
        're-matching → summary.json / breaks.csv / matched.csv / latest.json written to a folder object store. The ' +
        "sandbox's time to build the bill inside the bill request (sort, bill writer, gzip; a real provider has the " +
        'file ready) is measured and subtracted. The fund-flow bill is answered "no statement" (not fetched).',
      baselineIncludes:
        'COPY … from stdin (format csv) of the same bill rows as a plain CSV file (16 staged columns) into an ' +
        'unlogged staging table, from this process.',
      rows: [
        pairedRow(
          '5 recon end to end (reconcile)',
          's',
          pairs,
          ratioAtMost(3),
          'download → parse → COPY → match → heal → report',
        ),
        valueRow('5 recon peak RSS', 'MiB', rss, atMost(200)),
      ],
      details: {
        reps,
        rows: plan.rows,
        breaksPerClass: plan.breaksPerClass,
        ledgerRows: ledger,
        csvBytes: statSync(csvFile).size,
        generateSeconds,
        stages: {
          download: true,
          gunzip: true,
          sha1: true,
          parse: true,
          copyToStaging: true,
          match: true,
          heal: true,
          report: true,
          fundFlowBill: false,
        },
        secondsPerStage: stageSeconds(last),
        lastWorker: last,
        rowsPerSecond: plan.rows / last.seconds,
      },
      durationMs: now() - started,
    };
  } finally {
    await sandbox?.stop();
    await sql.end();
    await databases.dropAll();
    await rm(dir, { recursive: true, force: true });
  }
}
