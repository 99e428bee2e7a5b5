// Case 5's measured side, run in a fresh process (bundled by esbuild, plain `node`) so its peak RSS is its own:
// streamed download of the gzip bill over loopback → gunzip + SHA-1 check (openBill) → parseTradeBill → COPY into a
// staging table inside one transaction (rolled back if the hash or the bill's summary does not check out).
// Prints one JSON line with the stage results, the wall time and process.resourceUsage().maxRSS.
import http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createSql } from '@payhooks/core/ledger';
import { openBill, parseTradeBill } from '@payhooks/core/recon';
import { csvLine, STAGING_COLUMNS } from './bill.ts';

interface WorkerInput {
  billUrl: string;
  sha1: string;
  databaseUrl: string;
  table: string;
}

function download(url: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        if (response.statusCode !== 200) reject(new Error(`bill download answered ${response.statusCode}`));
        else resolve(response);
      })
      .on('error', reject);
  });
}

const input = JSON.parse(process.argv[2] ?? '{}') as WorkerInput;
const sql = createSql({ url: input.databaseUrl, max: 1, applicationName: 'payhooks-recon' });
await sql`select 1`;
const started = performance.now();
let rows = 0;
let rssSamplePeak = process.memoryUsage().rss;
const result = await sql.begin(async (tx) => {
  const response = await download(input.billUrl);
  const bill = openBill(response, { expectedSha1: input.sha1, gzip: true });
  const parser = parseTradeBill(bill);
  async function* csv(): AsyncGenerator<string> {
    let buffer = '';
    for await (const row of parser) {
      rows += 1;
      buffer += csvLine(row);
      if (buffer.length >= 65_536) {
        yield buffer;
        buffer = '';
        if ((rows & 0xfff) === 0) rssSamplePeak = Math.max(rssSamplePeak, process.memoryUsage().rss);
      }
    }
    if (buffer) yield buffer;
  }
  const writable = await tx
    .unsafe(`copy ${input.table} (${STAGING_COLUMNS.join(', ')}) from stdin with (format csv)`)
    .writable();
  await pipeline(Readable.from(csv()), writable);
  const summary = parser.summary();
  const integrity = bill.integrity();
  return { summaryRows: summary.rowCount, integrity: integrity[0] };
});
const seconds = (performance.now() - started) / 1000;
const [{ n }] = (await sql.unsafe(`select count(*)::int as n from ${input.table}`)) as unknown as [
  { n: number },
];
await sql.end();
process.stdout.write(
  `${JSON.stringify({
    seconds,
    rows,
    stagedRows: n,
    summaryRows: result.summaryRows,
    downloadedBytes: result.integrity?.downloadedBytes,
    plaintextBytes: result.integrity?.plaintextBytes,
    sha1Checked: result.integrity?.checkedStage,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    sampledPeakRssBytes: rssSamplePeak,
  })}\n`,
);
