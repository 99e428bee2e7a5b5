// `npx tsx packages/bench/src/ingress-profile.ts [stripe|wechatpay] [callbacks] [out.cpuprofile]`: a V8 CPU profile
// of case 1's measured loop only (the shipped handler factories on the same signed traffic, the production logger
// writing to /dev/null, a queue that stores nothing), taken with node:inspector around that loop, and a summary of
// self time by module and by function — the profile to read before and after a change to the ingress hot path.
// Not a benchmark figure: the numbers that count come from `npm run bench -- --case 1`.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { systemClock } from '@payhooks/core/ports';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { createStripeWebhookHandler, type HttpHandler } from '@payhooks/functions/stripe-webhook';
import { createWechatpayWebhookHandler } from '@payhooks/functions/wechatpay-webhook';
import { apiEvent, devNullLogger, nullQueue, stripeTraffic, wechatpayTraffic } from './fixtures.ts';
import { type CpuProfile, printSelfTime } from './profile-summary.ts';

const provider = process.argv[2] === 'wechatpay' ? 'wechatpay' : 'stripe';
const count = Number(process.argv[3] ?? (provider === 'stripe' ? 40_000 : 15_000));
const out = process.argv[4];

const deps = {
  queue: nullQueue(),
  logger: devNullLogger(`profile-${provider}`),
  metrics: new MemoryMetrics(),
  clock: systemClock,
};
let handler: HttpHandler;
let events: ReturnType<typeof apiEvent>[];
let expected: number;
if (provider === 'stripe') {
  const traffic = stripeTraffic(400);
  handler = createStripeWebhookHandler(
    { STRIPE_WEBHOOK_SECRETS: traffic.secret, QUEUE_URL: 'http://127.0.0.1:9/unused' },
    deps,
  );
  events = traffic.callbacks.map(apiEvent);
  expected = 200;
} else {
  const traffic = await wechatpayTraffic(400);
  handler = createWechatpayWebhookHandler(
    { WECHATPAY_MERCHANTS: traffic.merchantsJson, QUEUE_URL: 'http://127.0.0.1:9/unused' },
    deps,
  );
  events = traffic.callbacks.map(apiEvent);
  expected = 204;
}

const loop = async (n: number) => {
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const result = await handler(events[i % events.length]!);
    if (result.statusCode !== expected)
      throw new Error(`handler answered ${result.statusCode}: ${result.body}`);
  }
  return (performance.now() - start) / n;
};

await loop(Math.floor(count / 4));
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 50 });
await session.post('Profiler.start');
const msPer = await loop(count);
const { profile } = await session.post('Profiler.stop');
session.disconnect();
console.log(`${provider}: ${count} callbacks, ${(msPer * 1000).toFixed(1)} µs per callback (profiled)\n`);
if (out) writeFileSync(out, JSON.stringify(profile));
printSelfTime(profile as unknown as CpuProfile, { modules: 15, functions: 30 });
