// Case 5 — reconciliation of a generated 1,000,000-row WeChat Pay trade bill, end to end as far as the code base
// goes today: packages/core/src/recon has the download-side streams (openBill: gunzip + SHA-1) and the bill
// parser, but no staging schema, loader, matcher or report writer for WeChat Pay yet, and the sandbox has no bill
// endpoint. So the measured stages are: streamed download from a local HTTP server serving the gzip bill →
// gunzip + SHA-1 → parseTradeBill → COPY into a staging table (defined here) in one transaction. Matching and
// report writing are NOT included. Baseline: COPY of the same rows as plain CSV into the same staging table.
import { spawn } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createSql } from '@payhooks/core/ledger';
import { build } from 'esbuild';
import { generateBill, STAGING_COLUMNS, STAGING_TABLE_SQL } from '../recon/bill.ts';
import { pick } from '../sizes.ts';
import { atMost, now, pairedRow, ratioAtMost, settle, valueRow } from '../stats.ts';
import type { CaseOptions, CaseResult } from '../types.ts';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

async function serveFile(file: string) {
  const server = http.createServer((request, response) => {
    if (request.url !== '/bill.gz') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(statSync(file).size),
    });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/bill.gz`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface WorkerResult {
  seconds: number;
  rows: number;
  stagedRows: number;
  summaryRows: number;
  downloadedBytes: number;
  plaintextBytes: number;
  sha1Checked: string;
  maxRssBytes: number;
  sampledPeakRssBytes: number;
}

export async function runRecon(options: CaseOptions): Promise<CaseResult> {
  const started = now();
  const size = pick(options, {
    full: { rows: 1_000_000, reps: 3 },
    quick: { rows: 200_000, reps: 2 },
    tiny: { rows: 2000, reps: 1 },
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-bench-recon-'));
  const admin = createSql({ url: options.pgAdminUrl, max: 1, applicationName: 'bench-admin' });
  const database = `bench_recon_${process.pid}_${Date.now()}`;
  await admin.unsafe(`create database ${database}`);
  const databaseUrl = options.pgAdminUrl.replace(/\/[^/]*$/, `/${database}`);
  const sql = createSql({ url: databaseUrl, max: 1, applicationName: 'bench-baseline' });
  let server: Awaited<ReturnType<typeof serveFile>> | undefined;
  try {
    options.log(`case 5: generating a ${size.rows.toLocaleString('en-US')}-row trade bill`);
    const genStarted = now();
    const bill = await generateBill(size.rows, path.join(dir, 'bill.gz'), path.join(dir, 'bill.csv'));
    const generateSeconds = (now() - genStarted) / 1000;
    server = await serveFile(bill.gzipFile);
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

    const runPipeline = async (table: string): Promise<WorkerResult> => {
      await sql.unsafe(STAGING_TABLE_SQL(table));
      const input = JSON.stringify({ billUrl: server!.url, sha1: bill.sha1, databaseUrl, table });
      // spawnSync would block this process, which serves the bill: run the worker asynchronously.
      const child = spawn(process.execPath, [worker, input], {
        cwd: REPO,
        env: { PATH: process.env.PATH },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      if (code !== 0) throw new Error(`recon worker exited ${code}: ${stderr.slice(0, 800)}`);
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as WorkerResult;
      if (result.stagedRows !== size.rows || result.summaryRows !== size.rows) {
        throw new Error(`recon worker staged ${result.stagedRows} rows of ${size.rows}`);
      }
      return result;
    };
    const runCopy = async (table: string): Promise<number> => {
      await sql.unsafe(STAGING_TABLE_SQL(table));
      const copyStarted = now();
      const writable = await sql
        .unsafe(`copy ${table} (${STAGING_COLUMNS.join(', ')}) from stdin with (format csv)`)
        .writable();
      await pipeline(createReadStream(bill.csvFile), writable);
      const seconds = (now() - copyStarted) / 1000;
      const [{ n }] = (await sql.unsafe(`select count(*)::int as n from ${table}`)) as unknown as [
        { n: number },
      ];
      if (n !== size.rows) throw new Error(`baseline COPY staged ${n} rows of ${size.rows}`);
      return seconds;
    };

    // Warm-up: page cache for the files, the worker bundle, the table's first extension.
    await runCopy('staging_warm_copy');
    await sql.unsafe('drop table staging_warm_copy');
    const pairs: { measured: number; baseline: number }[] = [];
    const rss: number[] = [];
    const workerResults: WorkerResult[] = [];
    for (let r = 0; r < size.reps; r++) {
      await settle(200);
      let m: WorkerResult;
      let b: number;
      if (r % 2 === 0) {
        m = await runPipeline(`staging_bill_${r}`);
        b = await runCopy(`staging_copy_${r}`);
      } else {
        b = await runCopy(`staging_copy_${r}`);
        m = await runPipeline(`staging_bill_${r}`);
      }
      options.log(
        `case 5 rep ${r + 1}: pipeline ${m.seconds.toFixed(2)} s (peak RSS ${(m.maxRssBytes / 2 ** 20).toFixed(0)} MiB) vs COPY ${b.toFixed(2)} s`,
      );
      pairs.push({ measured: m.seconds, baseline: b });
      rss.push(m.maxRssBytes / 2 ** 20);
      workerResults.push(m);
      await sql.unsafe(`drop table staging_bill_${r}, staging_copy_${r}`);
    }
    const last = workerResults[workerResults.length - 1]!;
    return {
      case: 5,
      title: `Reconciliation: ${size.rows.toLocaleString('en-US')}-row WeChat Pay trade bill`,
      measuredIncludes:
        'INCLUDED: streamed HTTP download over loopback of the gzip bill (served by a bench-local server: the sandbox has no ' +
        'bill endpoint yet) → openBill (gunzip + SHA-1 of the plaintext, checked at the end) → parseTradeBill (exact ' +
        'amounts, Beijing time, summary-row check) → COPY into an unlogged staging table in one transaction, in a fresh ' +
        'node process running an esbuild bundle (peak RSS = its maxRSS). NOT INCLUDED: matching against the ledger and ' +
        'writing summary.json / breaks.csv / matched.csv — packages/core/src/recon has no WeChat Pay loader, matcher or ' +
        'report writer yet.',
      baselineIncludes:
        'COPY … from stdin (format csv) of the same rows as a plain CSV file of the staged columns into the same ' +
        'unlogged staging table, from this process.',
      rows: [
        pairedRow(
          '5 recon download→parse→COPY',
          's',
          pairs,
          ratioAtMost(3),
          'match + report not included (not built yet)',
        ),
        valueRow('5 recon peak RSS', 'MiB', rss, atMost(256)),
      ],
      details: {
        reps: size.reps,
        rows: size.rows,
        gzipBytes: statSync(bill.gzipFile).size,
        plainBytes: bill.plainBytes,
        csvBytes: statSync(bill.csvFile).size,
        generateSeconds,
        stages: {
          download: true,
          gunzip: true,
          sha1: true,
          parse: true,
          copyToStaging: true,
          match: false,
          report: false,
        },
        lastWorker: last,
        rowsPerSecond: size.rows / last.seconds,
      },
      durationMs: now() - started,
    };
  } finally {
    await server?.stop();
    await sql.end();
    await admin.unsafe(`drop database if exists ${database} with (force)`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  }
}
