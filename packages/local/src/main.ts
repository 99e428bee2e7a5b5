// `npm start`: the whole path on this machine — embedded Postgres, SQS emulator, local gateway in front of the
// Lambda handlers, the SQS poller, and the provider sandbox sending a burst of signed callbacks (with duplicates,
// reordering and forgeries). Prints what happened and where to look; `--exit` stops after the consistency check.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { list } from '@payhooks/functions/config';
import { checkStripeLedger, checkWechatpayLedger } from './check.ts';
import { buildStripeScenario, prng, randomWebhookSecret } from './sandbox/stripe-scenario.ts';
import { planStripeDeliveries, sendDeliveries } from './sandbox/stripe-sender.ts';
import { generateSandboxMerchants, writeMerchantsFile } from './sandbox/wechatpay-merchants.ts';
import { buildWechatpayScenario } from './sandbox/wechatpay-scenario.ts';
import { planWechatpayDeliveries, sendWechatpayDeliveries, type WechatpayDeliveryResult } from './sandbox/wechatpay-sender.ts';
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
// WeChat Pay: the sandbox generates its merchants (keys, certificate, APIv3 key) at every start. A configuration
// of your own (WECHATPAY_MERCHANTS_FILE) replaces it; the sandbox cannot sign for those merchants, so it then
// sends no WeChat Pay traffic.
const ownWechatpayFile = env.WECHATPAY_MERCHANTS_FILE || undefined;
const wechatpaySandbox = ownWechatpayFile ? undefined : await generateSandboxMerchants();
const wechatpayMerchantsFile =
  ownWechatpayFile ??
  (await writeMerchantsFile(path.join(stateDir, 'wechatpay', 'merchants.json'), wechatpaySandbox!.document));
const stack = await startLocalStack({
  stateDir,
  port: Number(env.PORT ?? 3000),
  databaseUrl: env.DATABASE_URL || undefined,
  pgPort: Number(env.PAYHOOKS_PG_PORT ?? 54320),
  stripeWebhookSecrets: [...list(env.STRIPE_WEBHOOK_SECRETS ?? ''), ...sandboxSecrets],
  consumerConcurrency: Number(env.CONSUMER_CONCURRENCY ?? 2),
  wechatpayMerchantsFile,
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
      wechatpayMerchantsFile,
      webhooks: { stripe: `${stack.gatewayUrl}/webhooks/stripe`, wechatpay: `${stack.gatewayUrl}/webhooks/wechatpay` },
    },
    null,
    2,
  )}\n`,
);

console.log(`payhooks local stack is up
  gateway   ${stack.gatewayUrl}  (POST /webhooks/stripe, /webhooks/stripe/{account},
            /webhooks/wechatpay, /webhooks/wechatpay/{merchant})
  wechatpay ${wechatpayMerchantsFile}${ownWechatpayFile ? '' : '  (sandbox merchants)'}
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

const wechatpay = wechatpaySandbox && buildWechatpayScenario({ seed, payments: 24, merchants: wechatpaySandbox.merchants });
const wechatpayResults: WechatpayDeliveryResult[] = [];
if (wechatpay && wechatpaySandbox) {
  // The merchant's own order system writes what each order should be paid; one row disagrees (→ 1 anomaly).
  for (const order of wechatpay.merchantOrders) {
    await stack.sql`insert into merchant_orders (provider, merchant_order_no, amount_minor, currency)
      values ('wechatpay', ${order.merchantOrderNo}, ${order.amountMinor.toString()}, ${order.currency})
      on conflict (provider, merchant_order_no) do update set amount_minor = excluded.amount_minor, currency = excluded.currency`;
  }
  const wechatpayDeliveries = planWechatpayDeliveries(wechatpay, {
    merchants: wechatpaySandbox.merchants,
    random,
    duplicateRate: 0.25,
    forgeries: true,
    now: Math.floor(Date.now() / 1000),
  });
  console.log(`sandbox: sending ${wechatpayDeliveries.length} WeChat Pay notifications (${wechatpay.notifications.length} notifications, ${wechatpaySandbox.merchants.length} merchants) …`);
  wechatpayResults.push(...(await sendWechatpayDeliveries(stack.gatewayUrl, wechatpayDeliveries, 8)));
}
await stack.drain();

const check = await checkStripeLedger(stack.sql, merged, results);
const accepted = results.filter((r) => r.status >= 200 && r.status < 300).length;
const rejected = results.filter((r) => r.status >= 400 && r.status < 500);
const dlqDepth = await stack.queues.depth(stack.queues.dlqUrl);
/** One metric summed over its dimension sets for one provider. */
const countOf = (metrics: MemoryMetrics, name: string, provider: string) =>
  [...metrics.counts].filter(([key]) => key.startsWith(`${name}{`) && key.includes(`provider=${provider}`)).reduce((sum, [, n]) => sum + n, 0);
const reasonsOf = (provider: string) =>
  [...stack.metrics.ingress.counts]
    .filter(([key]) => key.startsWith('CallbackRejected{') && key.includes(`provider=${provider}`))
    .map(([key, n]) => `${key.replace(/^.*reason=(\w+).*$/, '$1')}×${n}`);
const byReason = reasonsOf('stripe');

console.log(`
Stripe
  sent                 ${results.length}
  accepted (2xx)       ${accepted}
  rejected (4xx)       ${rejected.length}  ${byReason.join(' ')}
  applied              ${countOf(stack.metrics.consumer, 'EventApplied', 'stripe')}
  duplicates absorbed  ${countOf(stack.metrics.consumer, 'EventDuplicate', 'stripe')}
  failed attempts      ${countOf(stack.metrics.consumer, 'EventFailed', 'stripe')}
  in DLQ               ${dlqDepth}
consistency check      ${check.ok && dlqDepth === 0 ? 'passed' : 'FAILED'}`);
for (const problem of check.problems.slice(0, 20)) console.log(`  - ${problem}`);

const wechatpayCheck = wechatpay ? await checkWechatpayLedger(stack.sql, wechatpay, wechatpayResults) : undefined;
if (wechatpayCheck) {
  const wxAccepted = wechatpayResults.filter((r) => r.status >= 200 && r.status < 300).length;
  const wxRejected = wechatpayResults.filter((r) => r.status >= 400 && r.status < 500 && r.kind !== 'probe').length;
  console.log(`
WeChat Pay
  sent                 ${wechatpayResults.length}
  accepted (2xx)       ${wxAccepted}
  rejected (4xx)       ${wxRejected}  ${reasonsOf('wechatpay').join(' ')}
  probes (SIGNTEST)    ${countOf(stack.metrics.ingress, 'CallbackProbe', 'wechatpay')}
  applied              ${countOf(stack.metrics.consumer, 'EventApplied', 'wechatpay')}
  duplicates absorbed  ${countOf(stack.metrics.consumer, 'EventDuplicate', 'wechatpay')}
  anomalies            ${countOf(stack.metrics.consumer, 'PaymentAnomaly', 'wechatpay')}  (payment ≠ merchant_orders)
  failed attempts      ${countOf(stack.metrics.consumer, 'EventFailed', 'wechatpay')}
  in DLQ               ${dlqDepth}
consistency check      ${wechatpayCheck.ok && dlqDepth === 0 ? 'passed' : 'FAILED'}`);
  for (const problem of wechatpayCheck.problems.slice(0, 20)) console.log(`  - ${problem}`);
} else {
  console.log(`\nWeChat Pay\n  no sandbox traffic: WECHATPAY_MERCHANTS_FILE names your own merchants`);
}
const ok = check.ok && (wechatpayCheck?.ok ?? true) && dlqDepth === 0;

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
