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

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const provider = process.argv[2] === 'wechatpay' ? 'wechatpay' : 'stripe';
const count = Number(process.argv[3] ?? (provider === 'stripe' ? 40_000 : 15_000));
const out = process.argv[4];

function moduleOf(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const pk = url.indexOf('/packages/');
  return pk >= 0 ? url.slice(pk + 1) : url.replace(/^.*\//, '');
}

function summarize(profile: Profile): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const modules = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    const mod = moduleOf(frame.url);
    modules.set(mod, (modules.get(mod) ?? 0) + us);
    const fn = `${frame.functionName || '(anonymous)'} ${mod}:${frame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  console.log(`self time by module (of ${(total / 1e3).toFixed(0)} ms sampled):\n${top(modules, 15)}`);
  console.log(`\nself time by function:\n${top(functions, 30)}`);
}

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
summarize(profile as unknown as Profile);
