// Case 2 — ingress over HTTP at concurrency 64: the local gateway (startGateway, API Gateway v2 events) in front
// of the shipped handler factories, enqueueing through the webhooks' own SQS sender (sqsSenderFromEnv: one signed
// request per message) to the local SQS service in a process of its own (as `npm start` runs it), against a bare
// node:http server answering 204 — same load generator, same process, same machine. A third variant swaps the SQS
// queue for one that stores nothing, to show where the time goes.
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import type { Queue } from '@payhooks/core/ports';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import type { Env } from '@payhooks/functions/config';
import { createStripeWebhookHandler, type HttpHandler } from '@payhooks/functions/stripe-webhook';
import { createWechatpayWebhookHandler } from '@payhooks/functions/wechatpay-webhook';
import { sqsSenderFromEnv } from '@payhooks/functions/wiring/queue';
import { startGateway } from '@payhooks/local/gateway';
import { startLocalQueues } from '@payhooks/local/sqs';
import { type Callback, devNullLogger, nullQueue, stripeTraffic, wechatpayTraffic } from '../fixtures.ts';
import { type LoadResult, runLoad, startBareServer } from '../load.ts';
import { pick } from '../sizes.ts';
import { median, now, pairedRow, ratioAtLeast, settle } from '../stats.ts';
import type { BenchRow, CaseOptions, CaseResult } from '../types.ts';

const CONCURRENCY = 64;

/** Wraps a queue port to time SendMessage (SDK + emulator round trip) per call. */
function timedQueue(inner: Queue) {
  const timing = { calls: 0, totalMs: 0 };
  const queue: Queue = {
    async send(body) {
      const started = now();
      try {
        return await inner.send(body);
      } finally {
        timing.calls += 1;
        timing.totalMs += now() - started;
      }
    },
  };
  return { queue, timing };
}

function timedHandler(inner: HttpHandler) {
  const timing = { calls: 0, totalMs: 0 };
  const handler: HttpHandler = async (event) => {
    const started = now();
    try {
      return await inner(event);
    } finally {
      timing.calls += 1;
      timing.totalMs += now() - started;
    }
  };
  return { handler, timing };
}

async function serve(handler: HttpHandler, provider: 'stripe' | 'wechatpay') {
  const path = provider === 'stripe' ? '/webhooks/stripe' : '/webhooks/wechatpay/{merchant}';
  return startGateway({ port: 0, routes: [{ method: 'POST', path, handler }] });
}

interface ProviderRun {
  rows: BenchRow[];
  details: Record<string, unknown>;
}

async function runProvider(
  provider: 'stripe' | 'wechatpay',
  callbacks: Callback[],
  env: Env,
  queues: Awaited<ReturnType<typeof startLocalQueues>>,
  size: { total: number; warmup: number; reps: number },
  log: (line: string) => void,
): Promise<ProviderRun> {
  const logger = devNullLogger(`bench-${provider}-http`);
  const metrics = new MemoryMetrics();
  const sender = sqsSenderFromEnv(env);
  const sqs = timedQueue(sender);
  const factory = provider === 'stripe' ? createStripeWebhookHandler : createWechatpayWebhookHandler;
  const withSqs = timedHandler(factory(env, { queue: sqs.queue, logger, metrics }));
  const withoutSqs = factory(env, { queue: nullQueue(), logger, metrics });
  const expectStatus = provider === 'stripe' ? 200 : 204;

  const gateway = await serve(withSqs.handler, provider);
  const gatewayNoSqs = await serve(withoutSqs, provider);
  const bare = await startBareServer();
  const requests = callbacks.map((c) => ({ path: c.path, headers: c.headers, body: c.body }));
  const load = (url: string, total: number, status: number) =>
    runLoad({ url, requests, total, concurrency: CONCURRENCY, expectStatus: status });
  try {
    await load(bare.url, size.warmup, 204);
    await load(gateway.url, size.warmup, expectStatus);
    await load(gatewayNoSqs.url, size.warmup, expectStatus);
    const runs: { measured: LoadResult; baseline: LoadResult; noSqs: LoadResult }[] = [];
    for (let r = 0; r < size.reps; r++) {
      // Empty the queue between repetitions where SQS allows it (one purge per 60 s, as in AWS); the local
      // service's cost per message does not grow with depth anyway.
      await queues.client.send(new PurgeQueueCommand({ QueueUrl: queues.queueUrl })).catch(() => {});
      withSqs.timing.calls = 0;
      withSqs.timing.totalMs = 0;
      sqs.timing.calls = 0;
      sqs.timing.totalMs = 0;
      const order = r % 2 === 0 ? ['m', 'b', 'n'] : ['b', 'n', 'm'];
      const got: Partial<Record<string, LoadResult>> = {};
      for (const which of order) {
        await settle();
        if (which === 'm') got.m = await load(gateway.url, size.total, expectStatus);
        else if (which === 'b') got.b = await load(bare.url, size.total, 204);
        else got.n = await load(gatewayNoSqs.url, size.total, expectStatus);
      }
      runs.push({ measured: got.m!, baseline: got.b!, noSqs: got.n! });
      log(
        `case 2 ${provider} rep ${r + 1}: ${Math.round(got.m!.requestsPerSecond)} req/s vs bare ${Math.round(got.b!.requestsPerSecond)} ` +
          `(no SQS ${Math.round(got.n!.requestsPerSecond)}); handler ${(withSqs.timing.totalMs / withSqs.timing.calls).toFixed(2)} ms, ` +
          `of which SendMessage ${(sqs.timing.totalMs / sqs.timing.calls).toFixed(2)} ms`,
      );
    }
    const pairsOf = (pick: (l: LoadResult) => number) =>
      runs.map((run) => ({ measured: pick(run.measured), baseline: pick(run.baseline) }));
    const rows = [
      pairedRow(
        `2 ${provider} gateway+handler+SQS`,
        'req/s',
        pairsOf((l) => l.requestsPerSecond),
        ratioAtLeast(0.5),
      ),
      pairedRow(
        `2 ${provider} p50 latency`,
        'ms',
        pairsOf((l) => l.p50Ms),
        null,
        'ratio = measured/bare (lower is better)',
      ),
      pairedRow(
        `2 ${provider} p99 latency`,
        'ms',
        pairsOf((l) => l.p99Ms),
        null,
        'ratio = measured/bare (lower is better)',
      ),
    ];
    const rps = runs.map((run) => run.measured.requestsPerSecond);
    const noSqs = runs.map((run) => run.noSqs.requestsPerSecond);
    const bareRps = runs.map((run) => run.baseline.requestsPerSecond);
    // Per request, the CPU-bound server spends 1/rps seconds; the differences attribute that time.
    const perRequestUs = (values: number[]) => 1e6 / median(values);
    return {
      rows,
      details: {
        requestsPerRep: size.total,
        noSqsRequestsPerSecond: median(noSqs),
        noSqsRatioToBare: median(
          runs.map((run) => run.noSqs.requestsPerSecond / run.baseline.requestsPerSecond),
        ),
        noSqsP50Ms: median(runs.map((run) => run.noSqs.p50Ms)),
        whereTheTimeGoes: {
          note:
            'server time per request = 1/throughput on this CPU-bound 2-vCPU box (load generator, gateway and handler ' +
            'share one Node process, the SQS emulator has its own); differences between variants attribute it',
          bareHttpUs: perRequestUs(bareRps),
          gatewayAndHandlerUs: perRequestUs(noSqs) - perRequestUs(bareRps),
          sqsSendAndEmulatorUs: perRequestUs(rps) - perRequestUs(noSqs),
          lastRepHandlerMeanMs: withSqs.timing.totalMs / Math.max(1, withSqs.timing.calls),
          lastRepSendMessageMeanMs: sqs.timing.totalMs / Math.max(1, sqs.timing.calls),
        },
        runs: runs.map((run) => ({
          measured: { rps: run.measured.requestsPerSecond, p50: run.measured.p50Ms, p99: run.measured.p99Ms },
          bare: { rps: run.baseline.requestsPerSecond, p50: run.baseline.p50Ms, p99: run.baseline.p99Ms },
          noSqs: { rps: run.noSqs.requestsPerSecond, p50: run.noSqs.p50Ms, p99: run.noSqs.p99Ms },
        })),
      },
    };
  } finally {
    sender.close();
    await gateway.stop();
    await gatewayNoSqs.stop();
    await bare.stop();
  }
}

export async function runIngressHttp(options: CaseOptions): Promise<CaseResult> {
  const started = now();
  const size = pick(options, {
    full: { total: 3000, warmup: 500, reps: 5, distinct: 500 },
    quick: { total: 1200, warmup: 200, reps: 3, distinct: 200 },
    tiny: { total: 100, warmup: 64, reps: 1, distinct: 20 },
  });
  const queues = await startLocalQueues({
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 3,
    inChildProcess: true,
    service: 'payhooks',
  });
  try {
    const stripe = stripeTraffic(size.distinct);
    const wechat = await wechatpayTraffic(size.distinct);
    const env: Env = {
      QUEUE_URL: queues.queueUrl,
      SQS_ENDPOINT: queues.endpoint,
      STRIPE_WEBHOOK_SECRETS: stripe.secret,
      WECHATPAY_MERCHANTS: wechat.merchantsJson,
    };
    options.log('case 2: Stripe');
    const s = await runProvider('stripe', stripe.callbacks, env, queues, size, options.log);
    options.log('case 2: WeChat Pay');
    const w = await runProvider('wechatpay', wechat.callbacks, env, queues, size, options.log);
    return {
      case: 2,
      title: `Ingress over HTTP (concurrency ${CONCURRENCY}, loopback)`,
      measuredIncludes:
        'keep-alive HTTP/1.1 POSTs over 127.0.0.1 → startGateway (API Gateway v2 event) → handler factory (verify, envelope, ' +
        'the production logger to /dev/null) → the webhooks’ SQS sender (sqsSenderFromEnv: SigV4-signed SendMessage on a keep-alive agent) → ' +
        'payhooks’ local SQS service (queue-service/, HTTP) in a child process (as `npm start` runs it); answer after the send resolved. Load generator, ' +
        'gateway and handlers share one Node process.',
      baselineIncludes:
        'the same load generator against a bare node:http server that reads the body and answers 204.',
      rows: [...s.rows, ...w.rows],
      details: { concurrency: CONCURRENCY, reps: size.reps, stripe: s.details, wechatpay: w.details },
      durationMs: now() - started,
    };
  } finally {
    await queues.stop();
  }
}
