// Case 5's measured side, run in a fresh process (bundled by esbuild, plain `node`) so its peak RSS is its own: the
// production reconciliation of one WeChat Pay business day — `reconcile()` with `wechatpaySource` over the real
// WechatpayClient (signed requests, verified answers) against the provider API sandbox: trade bill request →
// streamed gzip download → SHA-1 check → parse → COPY into recon_lines (one transaction) → matching SQL against the
// ledger → healing of the breaks the provider can answer for (queries to the sandbox, applyEnvelope) and
// re-matching → summary.json / breaks.csv / matched.csv written to a folder object store, latest.json flipped.
// Prints one JSON line: the result, stage timestamps, RSS per stage and process.resourceUsage().maxRSS.
import { readFile, stat } from 'node:fs/promises';
import { createSql, type EnvelopeNormalizer } from '@payhooks/core/ledger';
import { systemClock } from '@payhooks/core/ports';
import { openNotification, parseMerchants, WechatpayClient } from '@payhooks/core/providers/wechatpay';
import {
  type ReconProgress,
  reconcile,
  type WechatpayBillApi,
  wechatpayHealer,
  wechatpaySource,
} from '@payhooks/core/recon/run';
import { createFolderStore } from '@payhooks/local/folder-store';

interface WorkerInput {
  sandboxUrl: string;
  merchantsFile: string;
  databaseUrl: string;
  reportsDir: string;
  businessDate: string;
}

const input = JSON.parse(process.argv[2] ?? '{}') as WorkerInput;
// memoryUsage.rss() reads only the RSS; memoryUsage() walks the heap spaces (8.9 % of a profiled run at 40 Hz).
const rssMb = () => process.memoryUsage.rss() / 2 ** 20;
let sampledPeakMb = rssMb();
const sampler = setInterval(() => {
  sampledPeakMb = Math.max(sampledPeakMb, rssMb());
}, 25);
sampler.unref();

const merchants = parseMerchants(await readFile(input.merchantsFile, 'utf8'));
const merchant = merchants.merchants[0]!;
const client = new WechatpayClient({
  merchant,
  baseUrl: input.sandboxUrl,
  failoverBaseUrl: null,
  clock: systemClock,
  // The sandbox builds a 1,000,000-row bill inside the bill request (≈ 10 s or more): the default 10 s per
  // attempt times out, and each retry makes it build the bill again.
  timeoutMs: 300_000,
});
// The consumer's WeChat Pay normalizer (packages/functions/src/consumer.ts wechatpayNormalizer), inlined so the
// bundle does not pull in the functions' AWS adapters.
const normalizer: EnvelopeNormalizer = async (envelope) => {
  const found = merchants.byId(envelope.account);
  if (!found) throw new Error(`no WeChat Pay merchant "${envelope.account}"`);
  return openNotification(envelope.rawBody, found).event;
};
// The client's bill calls, timed: the sandbox builds the 1,000,000-row bill (sort, bill writer, gzip, SHA-1) inside
// the bill request, which a real provider has done ahead of time; that wait is reported and taken out of the
// figure. The fund-flow bill is answered "no statement" without asking the sandbox (the case is about the trade
// bill; the sandbox would write a ~2,000,000-row fund-flow bill for the same day).
let providerBuildMs = 0;
const bills: WechatpayBillApi = {
  async tradeBill(date, type, options) {
    const t = performance.now();
    try {
      return await client.tradeBill(date, type, options);
    } finally {
      providerBuildMs += performance.now() - t;
    }
  },
  async fundFlowBill() {
    return { empty: true, code: 'NO_STATEMENT_EXIST', signed: true };
  },
  subMerchantFundFlowBill: (...args) => client.subMerchantFundFlowBill(...args),
  download: (url) => client.download(url),
};

const sql = createSql({ url: input.databaseUrl, max: 1, applicationName: 'payhooks-recon-wechatpay' });
const [{ pid: backendPid }] = (await sql`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
/** CPU seconds of the worker's PostgreSQL backend so far (from /proc: the bench runs PostgreSQL on this machine). */
const backendCpuSeconds = async (): Promise<number | null> => {
  try {
    const fields = (await readFile(`/proc/${backendPid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
};
const backendCpuAtStart = await backendCpuSeconds();
const store = createFolderStore(input.reportsDir);
const stages: { stage: string; ms: number; rssMb: number }[] = [];
const started = performance.now();
const result = await reconcile(
  {
    sql,
    store,
    clock: systemClock,
    logger: {
      debug() {},
      info() {},
      warn: (message, fields) => console.error(message, fields),
      error: (message, fields) => console.error(message, fields),
    },
    normalizer,
    healer: wechatpayHealer(
      client,
      { id: merchant.id, mchid: merchant.mchid, apiv3Key: merchant.apiv3Key },
      systemClock,
    ),
    onProgress: (progress: ReconProgress) => {
      if (progress.stage === 'lines') return;
      const rss = rssMb();
      sampledPeakMb = Math.max(sampledPeakMb, rss);
      stages.push({ stage: progress.stage, ms: performance.now() - started, rssMb: rss });
    },
  },
  {
    source: wechatpaySource(bills, {
      mchid: merchant.mchid,
      serviceProvider: false,
      businessDate: input.businessDate,
    }),
    businessDate: input.businessDate,
  },
);
const totalMs = performance.now() - started;
const cpu = process.cpuUsage();
const backendCpuAtEnd = await backendCpuSeconds();
clearInterval(sampler);
if (result.status !== 'succeeded') {
  throw new Error(`reconcile ${result.status}: ${result.error?.message ?? result.reason ?? ''}`);
}
const reportBytes: Record<string, number> = {};
for (const [name, key] of Object.entries(result.reportKeys?.files ?? {})) {
  reportBytes[name] = (await stat(store.pathOf(key))).size;
}
const [{ n }] =
  (await sql`select count(*)::int as n from recon_lines where run_id = ${result.runId}`) as unknown as [
    { n: number },
  ];
await sql.end();
process.stdout.write(
  `${JSON.stringify({
    seconds: (totalMs - providerBuildMs) / 1000,
    totalSeconds: totalMs / 1000,
    providerBuildSeconds: providerBuildMs / 1000,
    stagedLines: n,
    counts: result.counts,
    breaks: result.breaks,
    reportBytes,
    stages,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    /** User + system CPU of this process (from its start) and of its PostgreSQL backend (during reconcile()). */
    workerCpuSeconds: (cpu.user + cpu.system) / 1e6,
    backendCpuSeconds:
      backendCpuAtStart === null || backendCpuAtEnd === null ? null : backendCpuAtEnd - backendCpuAtStart,
    sampledPeakRssMb: sampledPeakMb,
  })}\n`,
);
