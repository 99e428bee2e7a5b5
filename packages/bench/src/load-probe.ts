// A load probe for the local runtime (not a bench case: no baseline): N signed Stripe deliveries at concurrency C
// through the gateway of a fresh `startLocalStack`, reporting the time from the first POST to the last ledger row
// and how many events were committed when the last HTTP answer arrived — whether ingress starves the consumer.
// `npx tsx packages/bench/src/load-probe.ts [deliveries=2000] [concurrency=16]`
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startLocalStack } from '@payhooks/local/stack';
import { buildStripeScenario, prng, randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { planStripeDeliveries, sendDeliveries } from '@payhooks/testkit/sandbox/stripe-sender';

const wanted = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 16);
const secret = randomWebhookSecret();
// About 2.5 events per payment in the sandbox scenario: grow the payments until the deliveries reach `wanted`.
let payments = Math.ceil(wanted / 2.5);
let scenario = buildStripeScenario({ seed: 7, payments });
while (scenario.events.length < wanted) {
  payments += 20;
  scenario = buildStripeScenario({ seed: 7, payments });
}
const deliveries = planStripeDeliveries(scenario, {
  secrets: [secret],
  random: prng(7),
  duplicateRate: 0,
  forgeries: false,
  now: Math.floor(Date.now() / 1000),
}).slice(0, wanted);
const unique = new Set(deliveries.map((d) => d.eventId)).size;

const stateDir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-probe-'));
await chmod(stateDir, 0o755);
const stack = await startLocalStack({
  stateDir,
  port: 0,
  pgPort: 57_000 + Math.floor(Math.random() * 1000),
  stripeWebhookSecrets: [secret],
});
const count = async () =>
  (await stack.sql<{ n: number }[]>`select count(*)::int as n from inbox_events`)[0]?.n ?? 0;
try {
  const started = performance.now();
  const results = await sendDeliveries(stack.gatewayUrl, deliveries, concurrency);
  const httpSeconds = (performance.now() - started) / 1000;
  const atLastAnswer = await count();
  let rows = atLastAnswer;
  while (rows < unique) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    rows = await count();
  }
  const totalSeconds = (performance.now() - started) / 1000;
  const drainSeconds = totalSeconds - httpSeconds;
  console.log(
    JSON.stringify({
      deliveries: deliveries.length,
      concurrency,
      non200: results.filter((r) => r.status !== 200).length,
      httpSeconds: +httpSeconds.toFixed(2),
      requestsPerSecond: Math.round(deliveries.length / httpSeconds),
      committedAtLastAnswer: atLastAnswer,
      unique,
      firstPostToLastRowSeconds: +totalSeconds.toFixed(2),
      drainEventsPerSecond: Math.round((unique - atLastAnswer) / Math.max(drainSeconds, 0.001)),
      poller: stack.poller.stats,
    }),
  );
} finally {
  await stack.stop();
  await rm(stateDir, { recursive: true, force: true });
}
