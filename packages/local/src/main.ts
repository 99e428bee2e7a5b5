// `npm start`: the whole path on this machine — embedded Postgres, SQS emulator, local gateway in front of the
// Lambda handlers, the SQS poller, and the provider sandbox sending a burst of signed callbacks (with duplicates,
// reordering and forgeries). Prints what happened and where to look; `--exit` stops after the consistency check.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { list } from '@payhooks/functions/config';
import { checkStripeLedger } from './check.ts';
import { planStripeDeliveries, sendDeliveries } from './sandbox/stripe-sender.ts';
import { buildStripeScenario, prng, randomWebhookSecret } from './sandbox/stripe-scenario.ts';
import { startLocalStack } from './stack.ts';

const { values: args } = parseArgs({
  options: {
    exit: { type: 'boolean', default: false },
    payments: { type: 'string', default: '40' },
    seed: { type: 'string' },
  },
});

const env = process.env;
const stateDir = path.resolve(env.PAYHOOKS_STATE_DIR ?? '.payhooks');
const seed = args.seed ? Number(args.seed) : Date.now() % 1_000_000;

// The sandbox signs with its own secrets; secrets from STRIPE_WEBHOOK_SECRETS (e.g. from `stripe listen`) are
// accepted as well, so real Stripe test events can be forwarded to the same gateway.
const sandboxSecrets = [randomWebhookSecret(), randomWebhookSecret()] as const;
const stack = await startLocalStack({
  stateDir,
  port: Number(env.PORT ?? 3000),
  databaseUrl: env.DATABASE_URL || undefined,
  pgPort: Number(env.PAYHOOKS_PG_PORT ?? 54320),
  stripeWebhookSecrets: [...list(env.STRIPE_WEBHOOK_SECRETS ?? ''), ...sandboxSecrets],
  consumerConcurrency: Number(env.CONSUMER_CONCURRENCY ?? 2),
});

const reportsDir = path.resolve(env.REPORTS_DIR ?? path.join(stateDir, 'reports'));
const localJson = path.join(stateDir, 'local.json');
const redactedDatabaseUrl = stack.databaseUrl.replace(/:[^:@/]+@/, ':***@');
await writeFile(
  localJson,
  `${JSON.stringify(
    {
      gatewayUrl: stack.gatewayUrl,
      databaseUrl: stack.databaseUrl,
      queueUrl: stack.queues.queueUrl,
      dlqUrl: stack.queues.dlqUrl,
      sqsEndpoint: stack.queues.endpoint,
      reportsDir,
      logFile: stack.logFile,
      webhooks: { stripe: `${stack.gatewayUrl}/webhooks/stripe` },
    },
    null,
    2,
  )}\n`,
);

console.log(`payhooks local stack is up
  gateway   ${stack.gatewayUrl}  (POST /webhooks/stripe, /webhooks/stripe/{account})
  database  ${redactedDatabaseUrl}
  queue     ${stack.queues.queueUrl}  (DLQ ${stack.queues.dlqUrl})
  logs      ${stack.logFile}
  details   ${localJson}
`);

const random = prng(seed);
const scenario = buildStripeScenario({ seed, payments: Number(args.payments), account: undefined });
const connect = buildStripeScenario({ seed: seed + 1, payments: 3, account: 'acct_1SandboxConnected' });
const merged = { events: [...scenario.events, ...connect.events], expected: scenario.expected };
for (const [key, value] of Object.entries(connect.expected) as [keyof typeof merged.expected, Map<string, never>][]) {
  for (const [id, state] of value) (merged.expected[key] as Map<string, never>).set(id, state);
}
const deliveries = planStripeDeliveries(merged, {
  secrets: sandboxSecrets,
  random,
  duplicateRate: 0.25,
  forgeries: true,
  now: Math.floor(Date.now() / 1000),
});
console.log(`sandbox: sending ${deliveries.length} Stripe callbacks (${merged.events.length} events, seed ${seed}) …`);
const results = await sendDeliveries(stack.gatewayUrl, deliveries, 8);
await stack.drain();

const check = await checkStripeLedger(stack.sql, merged, results);
const accepted = results.filter((r) => r.status >= 200 && r.status < 300).length;
const rejected = results.filter((r) => r.status >= 400 && r.status < 500);
const dlqDepth = await stack.queues.depth(stack.queues.dlqUrl);
const byReason = [...stack.metrics.ingress.counts].filter(([key]) => key.startsWith('CallbackRejected')).map(([key, n]) => `${key.replace(/^.*reason=(\w+).*$/, '$1')}×${n}`);

console.log(`
Stripe
  sent                 ${results.length}
  accepted (2xx)       ${accepted}
  rejected (4xx)       ${rejected.length}  ${byReason.join(' ')}
  applied              ${stack.metrics.consumer.total('EventApplied')}
  duplicates absorbed  ${stack.metrics.consumer.total('EventDuplicate')}
  failed attempts      ${stack.metrics.consumer.total('EventFailed')}
  in DLQ               ${dlqDepth}
consistency check      ${check.ok && dlqDepth === 0 ? 'passed' : 'FAILED'}`);
for (const problem of check.problems.slice(0, 20)) console.log(`  - ${problem}`);
const ok = check.ok && dlqDepth === 0;

if (args.exit) {
  await stack.stop();
  process.exit(ok ? 0 : 1);
}
console.log(`\nServing until Ctrl-C. Forward real Stripe test events with:
  stripe listen --forward-to ${stack.gatewayUrl}/webhooks/stripe
  (then restart with STRIPE_WEBHOOK_SECRETS=<the whsec_ it prints>)`);
const shutdown = async () => {
  await stack.stop();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
