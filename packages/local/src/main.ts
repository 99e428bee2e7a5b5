// `npm start`: the whole path on this machine — embedded Postgres, SQS emulator, local gateway in front of the
// Lambda handlers, the SQS poller, the provider API sandbox sending a burst of signed callbacks (with duplicates,
// reordering and forgeries) and then serving the providers' reconciliation files, and the nightly reconciliation of
// yesterday with exactly the sandbox's deliberate differences as breaks. Prints what happened and where to look;
// `--exit` stops after the consistency check (exit code 0 only if it passed). The orchestration is demo.ts.
// Before anything runs, the options and the configuration are checked (preflight.ts): each problem is one line
// naming the option, variable or file, and the exit code is 1.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PayhooksError } from '@payhooks/core/errors';
import { list } from '@payhooks/functions/config';
import { runLocalDemo } from './demo.ts';
import { localChecks, runPreflight } from './preflight.ts';
import { serveLocalStack } from './serve.ts';
import { parseStartOptions } from './start-options.ts';
import { acquireStateLock } from './state-lock.ts';

function fail(lines: string[]): never {
  for (const line of lines) console.error(line);
  process.exit(1);
}

const env = process.env;
// As the CLI does (packages/cli/src/sdk-warnings.ts): the AWS SDK's notice that releases after January 2027 need a
// newer Node is not something `npm start` can act on (the stacks run nodejs24.x); an operator may set it to false.
env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const parsed = parseStartOptions(process.argv.slice(2));
if (!parsed.ok) fail(parsed.problems.map((problem) => `LOCAL_USAGE: ${problem}`));
const args = parsed.options;
const stateDir = path.resolve(env.PAYHOOKS_STATE_DIR ?? '.payhooks');

// Before anything writes into the folder (the demo's merchants file, local.json): one `npm start` per folder.
let lock: ReturnType<typeof acquireStateLock>;
try {
  mkdirSync(stateDir, { recursive: true });
  lock = acquireStateLock(stateDir);
} catch (error) {
  if (error instanceof PayhooksError) fail([`${error.code}: ${error.message}`]);
  fail([`PAYHOOKS_STATE_DIR ${stateDir} cannot be used: ${(error as Error).message}`]);
}
const problems = await runPreflight(localChecks, { env, stateDir, purpose: 'start' });
if (problems.length > 0) {
  lock.release();
  fail(problems.map((problem) => `CONFIG_INVALID: ${problem.message}`));
}

if (args.serve) {
  const served = await serveLocalStack({
    stateDir,
    port: Number(env.PORT ?? 3000),
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    pgPort: Number(env.PAYHOOKS_PG_PORT ?? 54320),
    extraStripeSecrets: list(env.STRIPE_WEBHOOK_SECRETS ?? ''),
    ...(env.WECHATPAY_MERCHANTS_FILE ? { wechatpayMerchantsFile: env.WECHATPAY_MERCHANTS_FILE } : {}),
    ...(env.REPORTS_DIR ? { reportsDir: env.REPORTS_DIR } : {}),
    consumerConcurrency: Number(env.CONSUMER_CONCURRENCY ?? 2),
  }).catch((error: unknown) => {
    lock.release();
    if (error instanceof PayhooksError) fail([`${error.code}: ${error.message}`]);
    throw error;
  });
  console.log(`payhooks local stack is serving (no demo traffic, nothing seeded)
  gateway   ${served.stack.gatewayUrl}
  details   ${served.localJson}  (webhook secrets for signing: stripeWebhookSecrets, wechatpaySigningFile)
  orders    ${served.stack.gatewayUrl}/orders/{provider}/{account}/{merchantOrderNo}  (Authorization: Bearer <ordersToken from local.json>)
${served.consoleLines}Try:
  npm run cli -- trigger stripe payment_intent.succeeded
  npm run cli -- trigger wechatpay TRANSACTION.SUCCESS
  stripe listen --forward-to ${served.stack.gatewayUrl}/webhooks/stripe
Stop with Ctrl-C.`);
  const stopServing = async () => {
    await served.stop();
    lock.release();
    process.exit(0);
  };
  process.once('SIGINT', stopServing);
  process.once('SIGTERM', stopServing);
  // Serving until Ctrl-C: the demo below never runs (the signal handlers exit).
  await new Promise<never>(() => {});
}

const demo = await runLocalDemo({
  stateDir,
  port: Number(env.PORT ?? 3000),
  ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
  pgPort: Number(env.PAYHOOKS_PG_PORT ?? 54320),
  // Secrets from STRIPE_WEBHOOK_SECRETS (e.g. from `stripe listen`) are accepted besides the sandbox's own, so
  // real Stripe test events can be forwarded to the same gateway.
  extraStripeSecrets: list(env.STRIPE_WEBHOOK_SECRETS ?? ''),
  // A configuration of your own replaces the sandbox's generated merchants; the sandbox cannot sign for those, so
  // it then sends (and reconciles) no WeChat Pay traffic.
  ...(env.WECHATPAY_MERCHANTS_FILE ? { wechatpayMerchantsFile: env.WECHATPAY_MERCHANTS_FILE } : {}),
  ...(env.REPORTS_DIR ? { reportsDir: env.REPORTS_DIR } : {}),
  consumerConcurrency: Number(env.CONSUMER_CONCURRENCY ?? 2),
  seed: args.seed ?? Date.now() % 1_000_000,
  stripePayments: args.payments,
  wechatpayPayments: args.wechatpayPayments,
}).catch((error: unknown) => {
  lock.release();
  // As in the CLI: an error thrown on purpose (misconfiguration…) is one line with its code, no stack trace; so is
  // a port taken between the check and the start.
  if (error instanceof PayhooksError) fail([`${error.code}: ${error.message}`]);
  const { code, port } = error as { code?: string; port?: number };
  if (code === 'EADDRINUSE')
    fail([
      `CONFIG_INVALID: PORT ${port ?? env.PORT ?? 3000} is in use by another program: set PORT to a free port`,
    ]);
  throw error;
});

console.log(
  `\nconsistency check      ${demo.ok ? 'passed' : 'FAILED'}  (callbacks, DLQ, reconciliation breaks)`,
);
if (args.exit) {
  await demo.stop();
  lock.release();
  process.exit(demo.ok ? 0 : 1);
}
console.log(`
Serving until Ctrl-C (the CLI uses ${demo.localJson}):
  npm run cli -- recon list
  npm run cli -- recon download stripe platform ${demo.dates.stripe} --to ./reports
  npm run cli -- dlq list
  npm run cli -- backfill stripe --since ${demo.dates.stripe}T00:00:00Z
  npm run cli -- doctor
Forward real Stripe test events with:
  stripe listen --forward-to ${demo.stack.gatewayUrl}/webhooks/stripe
  (then restart with STRIPE_WEBHOOK_SECRETS=<the whsec_ it prints>)`);
const shutdown = async () => {
  await demo.stop();
  lock.release();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
