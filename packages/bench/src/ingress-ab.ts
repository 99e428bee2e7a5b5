// `npx tsx packages/bench/src/ingress-ab.ts <before-tree> [rounds] [callbacks per Stripe turn]`: paired A/B of case 1's measured side between
// this tree and another checkout (`before-tree`: a directory holding `packages/` of another commit and a
// node_modules whose @payhooks links point into it). Both trees' handler factories, loggers and metrics are loaded
// into this one process and driven with the same signed traffic, interleaved (before, after, baseline; the order
// rotates per round), so each side sees the same machine load. Prints µs per callback of each side and of case 1's
// baseline (raw HMAC resp. RSA verify with a pre-parsed key, plus one JSON.parse), and the per-round ratios
// after/before and baseline/side, medians over the rounds. For deciding a change; the figures of record come from
// `npm run bench -- --case 1`.
import type crypto from 'node:crypto';
import { openSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { syncFileDescriptor } from '@payhooks/core/logger';
import { systemClock } from '@payhooks/core/ports';
import { stripeBaseline, wechatpayBaseline } from './cases/ingress-cpu.ts';
import { apiEvent, nullQueue, stripeTraffic, wechatpayTraffic } from './fixtures.ts';
import { median } from './stats.ts';

type Handler = (event: ReturnType<typeof apiEvent>) => Promise<{ statusCode?: number; body?: string }>;

const [beforeArg, roundsArg, turnArg] = process.argv.slice(2);
if (!beforeArg) throw new Error('usage: ingress-ab.ts <before-tree> [rounds] [callbacks per Stripe turn]');
// Short turns, many rounds: on a shared machine a slow phase then hits all three sides of a round alike.
const rounds = Number(roundsArg ?? 60);
const turn = Number(turnArg ?? 1000);
const trees = {
  before: path.resolve(beforeArg),
  after: path.resolve(import.meta.dirname, '../../..'),
};

async function load(tree: string) {
  const at = (file: string) => import(pathToFileURL(path.join(tree, 'packages', file)).href);
  const stripe = await at('functions/src/wiring/stripe-ingress.ts');
  const wechat = await at('functions/src/wiring/wechatpay-ingress.ts');
  const logger = await at('core/src/logger.ts');
  const metrics = await at('functions/src/adapters/metrics.ts');
  const deps = (name: string) => ({
    queue: nullQueue(),
    clock: systemClock,
    metrics: new metrics.MemoryMetrics(),
    logger: logger.createLogger({
      name,
      level: 'info',
      // Both sides write through this tree's shipped destination: the A/B compares the trees' code, not it.
      destination: syncFileDescriptor(openSync('/dev/null', 'w')),
    }),
  });
  return {
    stripe: (env: Record<string, string>): Handler =>
      stripe.createStripeWebhookHandler(env, deps('stripe-webhook')),
    wechatpay: (env: Record<string, string>): Handler =>
      wechat.createWechatpayWebhookHandler(env, deps('wechatpay-webhook')),
  };
}

async function timed(count: number, run: (i: number) => unknown): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i++) await run(i);
  return ((performance.now() - start) * 1000) / count;
}

const before = await load(trees.before);
const after = await load(trees.after);

const stripe = stripeTraffic(400);
const stripeEnv = { STRIPE_WEBHOOK_SECRETS: stripe.secret, QUEUE_URL: 'http://127.0.0.1:9/unused' };
const stripeBase = stripeBaseline(stripe.secret, stripe.callbacks);

const wechat = await wechatpayTraffic(400);
const wechatEnv = { WECHATPAY_MERCHANTS: wechat.merchantsJson, QUEUE_URL: 'http://127.0.0.1:9/unused' };
const keys = new Map<string, crypto.KeyObject>();
for (const merchant of wechat.registry.merchants)
  for (const [serial, key] of merchant.verificationKeys) keys.set(serial, key);
const wechatBase = wechatpayBaseline(wechat.callbacks, keys);

const providers = [
  {
    name: 'stripe',
    count: turn,
    expected: 200,
    events: stripe.callbacks.map(apiEvent),
    handlers: { before: before.stripe(stripeEnv), after: after.stripe(stripeEnv) },
    baseline: (i: number) => stripeBase.run(i),
  },
  {
    name: 'wechatpay',
    count: Math.max(1, Math.round(turn / 2.5)),
    expected: 204,
    events: wechat.callbacks.map(apiEvent),
    handlers: { before: before.wechatpay(wechatEnv), after: after.wechatpay(wechatEnv) },
    baseline: (i: number) => wechatBase.run(i),
  },
];

for (const p of providers) {
  const side = (handler: Handler) => async (i: number) => {
    const result = await handler(p.events[i % p.events.length]!);
    if (result.statusCode !== p.expected)
      throw new Error(`${p.name} answered ${result.statusCode}: ${result.body}`);
  };
  const runs: Record<string, (i: number) => unknown> = {
    before: side(p.handlers.before),
    after: side(p.handlers.after),
    baseline: p.baseline,
  };
  const names = Object.keys(runs);
  for (const name of names) await timed(p.count / 2, runs[name]!); // warm-up
  const us: Record<string, number[]> = { before: [], after: [], baseline: [] };
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]!;
      us[name]!.push(await timed(p.count, runs[name]!));
    }
  }
  const ratio = (a: number[], b: number[]) => median(a.map((v, r) => v / b[r]!));
  console.log(
    `${p.name.padEnd(9)} µs per callback: before ${median(us.before!).toFixed(2)}, after ${median(us.after!).toFixed(2)}, ` +
      `baseline ${median(us.baseline!).toFixed(2)} | after/before ${ratio(us.after!, us.before!).toFixed(3)} | ` +
      `case-1 ratio before ${ratio(us.baseline!, us.before!).toFixed(3)}, after ${ratio(us.baseline!, us.after!).toFixed(3)}`,
  );
}
