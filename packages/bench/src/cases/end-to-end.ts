// Case 7 — end to end against a synchronous baseline. The same signed deliveries (sandbox scenario builders;
// 20 % redeliveries, 10 % out of order) go, at concurrency 16 and 64, once to the `npm start` stack
// (startLocalStack: gateway → handler → local SQS service → poller → consumer → ledger) and once to the simplest
// honest competitor (e2e/baseline-server.ts: verify, then one upsert per delivery, answer after the commit), each
// on a fresh database of the same PostgreSQL. payhooks is timed from the first POST to the last ledger row
// committed, the baseline to its last answer. CPU per delivery counts every process of the side from /proc, plus
// PostgreSQL's; the load generator runs in its own process and is counted on neither side.
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSql } from '@payhooks/core/ledger';
import { startLocalStack } from '@payhooks/local/stack';
import { randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { writeMerchantsFile } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { build } from 'esbuild';
import {
  type Delivery,
  type DeliveryMix,
  type PlannedDelivery,
  planDeliveries,
  signDeliveries,
  stripeEvents,
  type UniqueEvent,
  wechatpayEvents,
} from '../e2e/deliveries.ts';
import { cpuSecondsByRole, parentPid, treeCpuSeconds } from '../e2e/proc-cpu.ts';
import {
  BASELINE_TABLE_SQL,
  type BaselineConfig,
  type LedgerWatchMessage,
  type LedgerWatchReply,
  type LoadWorkerMessage,
  type LoadWorkerResult,
} from '../e2e/protocol.ts';
import { profileWindow } from '../e2e/window-profile.ts';
import { sharedSandboxMerchants } from '../fixtures.ts';
import { ledgerDatabases } from '../postgres.ts';
import { pick } from '../sizes.ts';
import { median, now, pairedRow, percentile, ratioAtLeast, ratioAtMost, settle } from '../stats.ts';
import type { BenchRow, CaseOptions, CaseResult } from '../types.ts';

const CONCURRENCIES = [16, 64] as const;
const MIX = { redeliveryShare: 0.2, outOfOrderShare: 0.1 };
/** `npm start`'s default (CONSUMER_CONCURRENCY): two consumer "containers", one connection each. */
const CONSUMER_CONCURRENCY = 2;
/** Give up waiting for the ledger after this long without a new row once the queue is empty (the rest is in the DLQ). */
const STALL_MS = 20_000;

type Provider = 'stripe' | 'wechatpay';

/** The stack's processes by command line (its child scripts keep these names, compiled or not). */
const stackRole = (commandLine: string) =>
  commandLine.includes('sqs-process') || commandLine.includes('queue-process')
    ? 'sqsEmulator'
    : commandLine.includes('consumer-container')
      ? 'consumerContainers'
      : undefined;

const subtract = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([role, seconds]) => [role, seconds - (before[role] ?? 0)]));

interface SideResult {
  seconds: number;
  httpSeconds: number;
  cpuSeconds: number;
  cpu: Record<string, number>;
  lagMs: number[];
  /** Distinct events in the database at the end (all of them for the baseline, which answers after the commit). */
  committed: number;
  loadGeneratorCpuSeconds: number;
  extra?: Record<string, unknown>;
}

/** Sends `message` and resolves with the child's next message of `type`; rejects if the child exits first. */
function ask<T>(child: ChildProcess, message: unknown, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: { type: string; error?: string }) => {
      if (reply.type === 'failed') {
        cleanup();
        reject(new Error(`child ${child.pid} failed while asked for ${type}: ${reply.error}`));
        return;
      }
      if (reply.type !== type) return;
      cleanup();
      resolve(reply as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`child ${child.pid} exited (${code}) while waiting for ${type}`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    if (message !== undefined) child.send(message as object);
  });
}

const forkBundle = (file: string, role: 'load-worker' | 'baseline-server' | 'ledger-watch') =>
  fork(file, [], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { PATH: process.env.PATH, PAYHOOKS_BENCH_CHILD: role },
  });

async function bundle(
  dir: string,
): Promise<{ loadWorker: string; baselineServer: string; ledgerWatch: string }> {
  const entry = (name: string) => fileURLToPath(new URL(`../e2e/${name}.ts`, import.meta.url));
  const out = {
    loadWorker: path.join(dir, 'load-worker.mjs'),
    baselineServer: path.join(dir, 'baseline-server.mjs'),
    ledgerWatch: path.join(dir, 'ledger-watch-process.mjs'),
  };
  for (const [name, outfile] of [
    ['load-worker', out.loadWorker],
    ['baseline-server', out.baselineServer],
    ['ledger-watch-process', out.ledgerWatch],
  ] as const) {
    await build({
      entryPoints: [entry(name)],
      outfile,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      bundle: true,
      banner: {
        js: "import { createRequire as __bench_createRequire } from 'module'; const require = __bench_createRequire(import.meta.url);",
      },
      logLevel: 'error',
    });
  }
  return out;
}

const lagsOf = (
  events: readonly UniqueEvent[],
  sent: Record<string, number>,
  landed: (eventId: string) => number | undefined,
) =>
  events.map((e) => {
    const at = landed(e.eventId);
    const first = sent[e.eventId];
    if (at === undefined || first === undefined) throw new Error(`no timing for event ${e.eventId}`);
    return Math.max(0.001, at - first);
  });

function checkLoad(result: LoadWorkerResult, side: string): LoadWorkerResult {
  if (result.error) throw new Error(`case 7 ${side}: ${result.error}`);
  return result;
}

export async function runEndToEnd(options: CaseOptions): Promise<CaseResult> {
  const started = now();
  const size = pick(options, {
    full: { deliveries: 5000, warmup: 4000, reps: 2 },
    quick: { deliveries: 1500, warmup: 1500, reps: 1 },
    tiny: { deliveries: 60, warmup: 10, reps: 1 },
  });
  const unique = Math.round(size.deliveries * (1 - MIX.redeliveryShare));
  const warmUnique = Math.round(size.warmup * (1 - MIX.redeliveryShare));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-bench-e2e-'));
  const databases = await ledgerDatabases(options.pgAdminUrl);
  const admin = createSql({ url: options.pgAdminUrl, max: 1, applicationName: 'bench-admin' });
  let loadWorker: ChildProcess | undefined;
  let ledgerWatcher: ChildProcess | undefined;
  try {
    // PostgreSQL's processes: the postmaster (a backend's parent) and its children, on the same machine.
    const [backend] = await admin<{ pid: number }[]>`select pg_backend_pid() as pid`;
    const postmaster = parentPid(backend!.pid);
    const comm = readFileSync(`/proc/${postmaster}/comm`, 'utf8').trim();
    if (!/postgres|postmaster/.test(comm))
      throw new Error(
        `case 7 needs PostgreSQL on this machine: parent of backend ${backend!.pid} is ${comm}`,
      );

    options.log('case 7: bundling the load generator and the baseline server');
    const bundles = await bundle(dir);
    loadWorker = forkBundle(bundles.loadWorker, 'load-worker');
    const worker = loadWorker;
    ledgerWatcher = forkBundle(bundles.ledgerWatch, 'ledger-watch');
    const watcher = ledgerWatcher;
    const watchLedgerOf = async (
      expected: ReadonlySet<string>,
      options: { afterId: number; timeoutMs: number; stallMs?: number },
    ) => {
      const reply = await ask<Extract<LedgerWatchReply, { type: 'watched' }>>(
        watcher,
        { type: 'watch', expected: [...expected], ...options } satisfies LedgerWatchMessage,
        'watched',
      );
      return { ...reply, committedMs: new Map(reply.committedMs) };
    };
    const load = async (deliveries: Delivery[]) => {
      await ask(worker, { type: 'load', deliveries } satisfies LoadWorkerMessage, 'loaded');
    };
    const runLoad = (url: string, concurrency: number, expectStatus: number) =>
      ask<LoadWorkerResult>(
        worker,
        { type: 'run', url, concurrency, expectStatus } satisfies LoadWorkerMessage,
        'done',
      );

    const secret = randomWebhookSecret();
    const sandbox = await sharedSandboxMerchants();
    const merchantsFile = await writeMerchantsFile(path.join(dir, 'merchants.json'), sandbox.document);
    const baselineConfig = (databaseUrl: string): BaselineConfig => ({
      type: 'config',
      databaseUrl,
      stripeSecret: secret,
      merchants: sandbox.merchants.map((m) => ({
        id: m.id,
        apiv3Key: m.apiv3Key,
        keys: m.keys.map((k) => ({
          serial: k.serial,
          publicKeyPem: k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        })),
      })),
    });

    const traffic: Record<
      Provider,
      { warm: PlannedDelivery[]; plan: PlannedDelivery[]; events: UniqueEvent[] }
    > = {} as never;
    for (const provider of ['stripe', 'wechatpay'] as const) {
      const all =
        provider === 'stripe'
          ? stripeEvents(warmUnique + unique, secret, 700)
          : wechatpayEvents(warmUnique + unique, sandbox.merchants, 1100);
      const warmEvents = all.slice(0, warmUnique);
      const events = all.slice(warmUnique);
      const mix = (seed: number): DeliveryMix => ({ ...MIX, seed });
      traffic[provider] = {
        warm: planDeliveries(warmEvents, mix(71)),
        plan: planDeliveries(events, mix(72)),
        events,
      };
    }

    const runBaseline = async (
      provider: Provider,
      concurrency: number,
      deliveries: () => Delivery[],
      warm: () => Delivery[],
    ): Promise<SideResult> => {
      const { events } = traffic[provider];
      const databaseUrl = await databases.fresh();
      const setup = createSql({ url: databaseUrl, max: 1, applicationName: 'bench-admin' });
      await setup.unsafe(BASELINE_TABLE_SQL);
      const server = forkBundle(bundles.baselineServer, 'baseline-server');
      const exited = new Promise((resolve) => server.once('exit', resolve));
      try {
        const { url } = await ask<{ url: string }>(server, baselineConfig(databaseUrl), 'listening');
        const status = provider === 'stripe' ? 200 : 204;
        await load(warm());
        checkLoad(await runLoad(url, concurrency, status), 'baseline warm-up');
        await load(deliveries());
        await settle(200);
        const roots = [server.pid!];
        const before = {
          server: treeCpuSeconds(roots),
          postgres: treeCpuSeconds([postmaster]),
          loadGenerator: treeCpuSeconds([worker.pid!]),
        };
        const result = checkLoad(await runLoad(url, concurrency, status), 'baseline');
        const cpu = {
          server: treeCpuSeconds(roots) - before.server,
          postgres: treeCpuSeconds([postmaster]) - before.postgres,
        };
        const loadGeneratorCpuSeconds = treeCpuSeconds([worker.pid!]) - before.loadGenerator;
        const [stored] = await setup<{ n: number }[]>`select count(*)::int as n from baseline_events`;
        if (!stored || stored.n === 0) throw new Error('case 7 baseline stored nothing');
        const seconds = (result.finishedAtMs - result.startedAtMs) / 1000;
        return {
          seconds,
          httpSeconds: seconds,
          cpuSeconds: cpu.server + cpu.postgres,
          cpu,
          // Synchronous: an event is in the database when its first delivery is answered.
          lagMs: lagsOf(events, result.firstSentMs, (id) => result.firstAnsweredMs[id]),
          committed: events.length,
          loadGeneratorCpuSeconds,
          extra: { objectsStored: stored.n },
        };
      } finally {
        server.send({ type: 'stop' });
        await exited;
        await setup.end();
        await databases.drop(databaseUrl);
      }
    };

    const runPayhooks = async (
      provider: Provider,
      concurrency: number,
      deliveries: () => Delivery[],
      warm: () => Delivery[],
      warmIds: Set<string>,
    ): Promise<SideResult> => {
      const { events } = traffic[provider];
      const databaseUrl = await databases.fresh();
      const stateDir = await mkdtemp(path.join(dir, 'stack-'));
      const stack = await startLocalStack({
        stateDir,
        port: 0,
        databaseUrl,
        stripeWebhookSecrets: [secret],
        wechatpayMerchantsFile: merchantsFile,
        consumerConcurrency: CONSUMER_CONCURRENCY,
      });
      const { backendPid: watchBackend } = await ask<Extract<LedgerWatchReply, { type: 'connected' }>>(
        watcher,
        { type: 'connect', databaseUrl } satisfies LedgerWatchMessage,
        'connected',
      );
      try {
        const status = provider === 'stripe' ? 200 : 204;
        const timeoutMs = 120_000 + traffic[provider].plan.length * 100; // a hang guard for loaded machines
        await load(warm());
        checkLoad(await runLoad(stack.gatewayUrl, concurrency, status), 'payhooks warm-up');
        const { maxId: afterId } = await watchLedgerOf(warmIds, { afterId: 0, timeoutMs });
        await load(deliveries());
        await settle(200);
        // Everything of the bench process's tree but the load generator, the ledger watch and PostgreSQL (counted
        // on its own, without the watch's backend): measuring apparatus, not payhooks.
        const exclude = new Set([worker.pid!, watcher.pid!, postmaster]);
        const excludeFromPostgres = new Set([watchBackend]);
        const before = {
          byProcess: cpuSecondsByRole(process.pid, exclude, stackRole),
          sends: { ...stack.ingressSends },
          stack: treeCpuSeconds([process.pid], exclude),
          postgres: treeCpuSeconds([postmaster], excludeFromPostgres),
          loadGenerator: treeCpuSeconds([worker.pid!]),
        };
        const expected = new Set(events.map((e) => e.eventId));
        const endProfile = await profileWindow(`payhooks-${provider}-c${concurrency}`);
        // The watch may give up only once the load is done and the main queue holds nothing (in flight included).
        let queueEmpty = false;
        let depthTimer: NodeJS.Timeout | undefined;
        const [result, ledger] = await Promise.all([
          runLoad(stack.gatewayUrl, concurrency, status).then((r) => {
            depthTimer = setInterval(() => {
              stack.queues.depth(stack.queues.queueUrl).then(
                (depth) => {
                  if (queueEmpty !== (depth === 0))
                    watcher.send({ type: 'can-stall', value: depth === 0 } satisfies LedgerWatchMessage);
                  queueEmpty = depth === 0;
                },
                () => {},
              );
            }, 1000);
            return checkLoad(r, 'payhooks');
          }),
          watchLedgerOf(expected, { afterId, timeoutMs, stallMs: STALL_MS }),
        ]).finally(() => clearInterval(depthTimer));
        const dlqDepth =
          ledger.missing > 0 ? await stack.queues.depth(stack.queues.dlqUrl).catch(() => null) : 0;
        if (ledger.missing > 0)
          options.log(
            `case 7 ${provider} c${concurrency}: ${ledger.missing} of ${expected.size} events not in the ledger after ` +
              `${STALL_MS / 1000} s without progress (DLQ depth ${dlqDepth}); timed to the last commit`,
          );
        const cpu = {
          stack: treeCpuSeconds([process.pid], exclude) - before.stack,
          postgres: treeCpuSeconds([postmaster], excludeFromPostgres) - before.postgres,
        };
        await endProfile();
        const stackByProcess = subtract(cpuSecondsByRole(process.pid, exclude, stackRole), before.byProcess);
        const loadGeneratorCpuSeconds = treeCpuSeconds([worker.pid!]) - before.loadGenerator;
        const endMs = Math.max(ledger.lastCommitMs, result.finishedAtMs);
        return {
          seconds: (endMs - result.startedAtMs) / 1000,
          httpSeconds: (result.finishedAtMs - result.startedAtMs) / 1000,
          cpuSeconds: cpu.stack + cpu.postgres,
          cpu,
          // Events that never committed (DLQ) have no lag; they are counted in `missing`.
          lagMs: lagsOf(
            events.filter((e) => ledger.committedMs.has(e.eventId)),
            result.firstSentMs,
            (id) => ledger.committedMs.get(id),
          ),
          committed: ledger.committedMs.size,
          loadGeneratorCpuSeconds,
          extra: {
            // main = gateway + webhook handlers + SendMessage client + poller.
            stackCpuMsPerDeliveryByProcess: Object.fromEntries(
              Object.entries(stackByProcess).map(([role, seconds]) => [
                role,
                (seconds / traffic[provider].plan.length) * 1000,
              ]),
            ),
            // The gateway's SendMessageBatch requests in the window and the mean messages per request.
            sendBatchRequests: stack.ingressSends.requests - before.sends.requests,
            messagesPerSendBatch:
              (stack.ingressSends.entries - before.sends.entries) /
              Math.max(1, stack.ingressSends.requests - before.sends.requests),
            ledgerPolls: ledger.polls,
            lateStamped: ledger.lateStamped,
            missing: ledger.missing,
            dlqDepth,
            lastAnswerToLastCommitMs: ledger.lastCommitMs - result.finishedAtMs,
          },
        };
      } finally {
        await ask(watcher, { type: 'close' } satisfies LedgerWatchMessage, 'closed');
        await stack.stop();
        await databases.drop(databaseUrl);
        await rm(stateDir, { recursive: true, force: true });
      }
    };

    const rows: BenchRow[] = [];
    const details: Record<string, unknown> = {};
    let pairIndex = 0;
    for (const provider of ['stripe', 'wechatpay'] as const) {
      // The smoke test (tiny) runs one concurrency per provider to stay fast; both rows' code paths still run.
      const concurrencies = options.tiny ? [provider === 'stripe' ? 16 : 64] : CONCURRENCIES;
      for (const concurrency of concurrencies) {
        const pairs: { payhooks: SideResult; baseline: SideResult; deliveries: number }[] = [];
        for (let rep = 0; rep < size.reps; rep++) {
          // The same deliveries for both sides, signed right before each side sends them: both providers reject
          // signatures older than five minutes, and a slow side must not make the other's expire.
          const deliveries = () => signDeliveries(traffic[provider].plan);
          const warm = () => signDeliveries(traffic[provider].warm);
          const deliveryCount = traffic[provider].plan.length;
          const warmIds = new Set(traffic[provider].warm.map((d) => d.event.eventId));
          const order = pairIndex++ % 2 === 0 ? ['baseline', 'payhooks'] : ['payhooks', 'baseline'];
          const got: Partial<Record<string, SideResult>> = {};
          for (const side of order) {
            await settle(200);
            got[side] =
              side === 'baseline'
                ? await runBaseline(provider, concurrency, deliveries, warm)
                : await runPayhooks(provider, concurrency, deliveries, warm, warmIds);
          }
          const p = got.payhooks!;
          const b = got.baseline!;
          pairs.push({ payhooks: p, baseline: b, deliveries: deliveryCount });
          options.log(
            `case 7 ${provider} c${concurrency} rep ${rep + 1}: ${Math.round(p.committed / p.seconds)} vs ${Math.round(b.committed / b.seconds)} events/s; ` +
              `CPU ${((p.cpuSeconds / deliveryCount) * 1000).toFixed(2)} vs ${((b.cpuSeconds / deliveryCount) * 1000).toFixed(2)} ms/delivery; ` +
              `lag p50 ${percentile(p.lagMs, 50).toFixed(0)} vs ${percentile(b.lagMs, 50).toFixed(0)} ms`,
          );
        }
        const label = `7 ${provider} c${concurrency}`;
        const of = (pick: (s: SideResult, deliveries: number) => number) =>
          pairs.map((pair) => ({
            measured: pick(pair.payhooks, pair.deliveries),
            baseline: pick(pair.baseline, pair.deliveries),
          }));
        rows.push(
          pairedRow(
            `${label} events/s end to end`,
            'events/s',
            of((s) => s.committed / s.seconds),
            ratioAtLeast(2),
            'payhooks: first POST → last ledger commit; baseline: first POST → last answer',
          ),
          pairedRow(
            `${label} CPU per delivery`,
            'ms',
            of((s, n) => (s.cpuSeconds / n) * 1000),
            ratioAtMost(0.5),
            'all processes of the side + PostgreSQL, from /proc; load generator excluded',
          ),
          pairedRow(
            `${label} HTTP req/s`,
            'req/s',
            of((s, n) => n / s.httpSeconds),
            null,
          ),
          ...([50, 95, 99] as const).map((p) =>
            pairedRow(
              `${label} lag p${p}`,
              'ms',
              of((s) => percentile(s.lagMs, p)),
              null,
              'first send → ledger commit (payhooks: poll stamp; baseline: first answer); lower is better',
            ),
          ),
        );
        const summary = (s: SideResult, n: number) => ({
          seconds: s.seconds,
          httpSeconds: s.httpSeconds,
          cpuSeconds: s.cpu,
          cpuMsPerDelivery: (s.cpuSeconds / n) * 1000,
          loadGeneratorCpuSeconds: s.loadGeneratorCpuSeconds,
          lagMs: { p50: percentile(s.lagMs, 50), p95: percentile(s.lagMs, 95), p99: percentile(s.lagMs, 99) },
          ...s.extra,
        });
        details[`${provider}-c${concurrency}`] = {
          deliveries: pairs[0]!.deliveries,
          uniqueEvents: unique,
          medianPayhooksSeconds: median(pairs.map((pair) => pair.payhooks.seconds)),
          runs: pairs.map((pair) => ({
            payhooks: summary(pair.payhooks, pair.deliveries),
            baseline: summary(pair.baseline, pair.deliveries),
          })),
        };
      }
    }
    return {
      case: 7,
      title: 'End to end against a synchronous baseline (concurrency 16 and 64, loopback)',
      measuredIncludes:
        'the `npm start` stack (startLocalStack): keep-alive POSTs → gateway → webhook handler (verify, envelope, the production logger ' +
        `to a log file) → batching sender → local SQS service (own process, over IPC) → poller → ${CONSUMER_CONCURRENCY} consumer containers (one connection each, ` +
        'batches of up to 500, 100 ms batching window) → inbox + projections in PostgreSQL (fsync on); timed first POST → last inbox row committed (polled ' +
        'every 20 ms); CPU = the bench process and all its descendants except the load generator, plus PostgreSQL.',
      baselineIncludes:
        'a node:http server in its own process: Stripe.webhooks.constructEvent, or RSA-SHA256 verify with pre-parsed ' +
        'KeyObjects + AES-256-GCM decrypt; one autocommitted upsert per delivery (latest event per object wins) through ' +
        'a postgres.js pool of 10 into the same PostgreSQL; answers after the commit; CPU = its process plus PostgreSQL.',
      rows,
      details: {
        mix: MIX,
        uniqueEventsPerRun: unique,
        warmupDeliveries: size.warmup,
        reps: size.reps,
        consumerConcurrency: CONSUMER_CONCURRENCY,
        lagClock:
          'epoch ms: load generator performance.timeOrigin + now() at first send; PostgreSQL clock_timestamp() of the ' +
          'poll that first saw the inbox row (an upper bound of the commit, up to one 20 ms poll late)',
        ...details,
      },
      durationMs: now() - started,
    };
  } finally {
    for (const child of [loadWorker, ledgerWatcher]) {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.disconnect();
        await exited;
      }
    }
    await admin.end();
    await databases.dropAll();
    await rm(dir, { recursive: true, force: true });
  }
}
