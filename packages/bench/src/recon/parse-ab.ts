// `npx tsx packages/bench/src/recon/parse-ab.ts [rows] [rounds] [out.cpuprofile]`: the worker's half of case 5's
// load, without PostgreSQL — a downloaded trade bill (case 5's day, from the provider sandbox through the real
// WechatpayClient) → gunzip + SHA-1 (openBill) → staging record bytes, by the parser path (parseTradeBill →
// tradeBillStagingRecord → 256 KiB strings → UTF-8, as the COPY's Writable encodes them) and by the byte path
// (TradeBillStaging), alternating, with the CPU and wall time of each and a check that both staged the same bytes.
// Not a benchmark figure (those come from `npm run bench -- --case 5`): the attribution of the load's worker CPU.
import { createHash } from 'node:crypto';
import { createReadStream, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '@payhooks/core/ports';
import { parseMerchants, WechatpayClient } from '@payhooks/core/providers/wechatpay';
import { openBill, parseTradeBill } from '@payhooks/core/recon';
import { stagingRecordPrefix, TradeBillStaging, tradeBillStagingRecord } from '@payhooks/core/recon/run';
import { sandboxMerchantsFromGenerated, startProviderSandbox } from '@payhooks/testkit/sandbox/provider-api';
import { generateSandboxMerchants } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { type CpuProfile, printSelfTime } from '../profile-summary.ts';
import { BUSINESS_DATE, registerDay } from './bill.ts';

const [rows = 200_000, rounds = 3] = process.argv.slice(2, 4).map(Number);
const profileOut = process.argv[4];
const PREFIX = stagingRecordPrefix('00000000-0000-4000-8000-000000000000', 'tradebill');

async function downloadBill(dir: string): Promise<{ file: string; sha1: string }> {
  const generated = await generateSandboxMerchants();
  const config = generated.document.merchants[0]!;
  const sandbox = await startProviderSandbox({
    wechatpay: { merchants: sandboxMerchantsFromGenerated(generated).slice(0, 1) },
  });
  try {
    registerDay(sandbox.wechatpay!, config.mchid, { rows, breaksPerClass: 10 });
    const merchant = parseMerchants(JSON.stringify({ merchants: [config] })).merchants[0]!;
    const client = new WechatpayClient({
      merchant,
      baseUrl: sandbox.url,
      failoverBaseUrl: null,
      clock: systemClock,
      timeoutMs: 300_000,
    });
    const answer = await client.tradeBill(BUSINESS_DATE, 'ALL', { gzip: true });
    if (answer.empty) throw new Error('the sandbox has no bill');
    const chunks: Buffer[] = [];
    for await (const chunk of await client.download(answer.downloadUrl))
      chunks.push(Buffer.from(chunk as Uint8Array));
    const file = path.join(dir, 'tradebill.csv.gz');
    await writeFile(file, Buffer.concat(chunks));
    return { file, sha1: answer.hashValue };
  } finally {
    await sandbox.stop();
  }
}

const opened = (file: string, sha1: string) =>
  openBill(createReadStream(file, { highWaterMark: 1024 * 1024 }), { expectedSha1: sha1, gzip: 'auto' });

async function parserPath(file: string, sha1: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let buffer = '';
  for await (const row of parseTradeBill(opened(file, sha1))) {
    buffer += tradeBillStagingRecord(PREFIX, row);
    if (buffer.length >= 262_144) {
      out.push(Buffer.from(buffer, 'utf8'));
      buffer = '';
    }
  }
  out.push(Buffer.from(buffer, 'utf8'));
  return out;
}

async function bytePath(file: string, sha1: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const staging = new TradeBillStaging(PREFIX);
  for await (const chunk of staging.chunks(opened(file, sha1))) out.push(chunk.bytes as Buffer);
  return out;
}

async function timed(run: () => Promise<Buffer[]>) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const out = await run();
  const used = process.cpuUsage(cpu);
  const hash = createHash('sha1');
  for (const chunk of out) hash.update(chunk);
  return {
    cpuSeconds: (used.user + used.system) / 1e6,
    wallSeconds: (performance.now() - started) / 1000,
    sha1: hash.digest('hex'),
  };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-parse-ab-'));
try {
  const { file, sha1 } = await downloadBill(dir);
  const paths = { parser: () => parserPath(file, sha1), bytes: () => bytePath(file, sha1) };
  await timed(paths.parser);
  await timed(paths.bytes);
  const hashes = new Set<string>();
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? (['parser', 'bytes'] as const) : (['bytes', 'parser'] as const);
    for (const name of order) {
      const result = await timed(paths[name]);
      hashes.add(result.sha1);
      console.log(
        `${rows} rows, round ${round + 1}, ${name}: CPU ${result.cpuSeconds.toFixed(2)} s, wall ${result.wallSeconds.toFixed(2)} s (load ${os.loadavg()[0]!.toFixed(2)})`,
      );
    }
  }
  if (hashes.size !== 1) throw new Error(`the two paths staged different bytes (${[...hashes].join(', ')})`);
  if (profileOut) {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await paths.bytes();
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    writeFileSync(profileOut, JSON.stringify(profile));
    printSelfTime(profile as unknown as CpuProfile, { modules: 10, functions: 25 });
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
