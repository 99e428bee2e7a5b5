// Step 1 of the demo: the local stack and the provider API sandbox up, local.json written for the CLI, and the
// addresses printed.
import { writeFile } from 'node:fs/promises';
import {
  type ProviderSandbox,
  sandboxMerchantsFromGenerated,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { type LocalStack, startLocalStack } from '../stack.ts';
import type { DemoPlan } from './plan.ts';
import type { LocalDemoOptions } from './types.ts';

export interface DemoRuntime {
  stack: LocalStack;
  sandbox: ProviderSandbox;
  /** Stops the sandbox, then the stack. */
  stop(): Promise<void>;
}

export async function startDemoStack(options: LocalDemoOptions, plan: DemoPlan): Promise<DemoRuntime> {
  const stack = await startLocalStack({
    stateDir: plan.stateDir,
    port: options.port,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.pgPort !== undefined ? { pgPort: options.pgPort } : {}),
    ...(options.fastPostgres !== undefined ? { fastPostgres: options.fastPostgres } : {}),
    stripeWebhookSecrets: [...(options.extraStripeSecrets ?? []), ...plan.sandboxSecrets],
    consumerConcurrency: options.consumerConcurrency ?? 2,
    wechatpayMerchantsFile: plan.wechatpayMerchantsFile,
    reportsDir: plan.reportsDir,
    reportsToken: plan.reportsToken,
    ordersToken: plan.ordersToken,
    console: { users: plan.consoleUsers },
    ...(options.env ? { env: options.env } : {}),
  });
  let sandbox: ProviderSandbox;
  try {
    sandbox = await startProviderSandbox({
      ...(plan.wechatpaySandbox
        ? { wechatpay: { merchants: sandboxMerchantsFromGenerated(plan.wechatpaySandbox) } }
        : {}),
      stripe: { apiKey: plan.stripeApiKey },
    });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const stop = async () => {
    await sandbox.stop().catch(() => {});
    await stack.stop();
  };
  return { stack, sandbox, stop };
}

/** local.json: where everything listens, for the CLI and for you (mode 0600: it holds the database URL). */
export async function writeLocalJson(
  { stack, sandbox }: DemoRuntime,
  plan: DemoPlan,
  /** Local-only signing material for scripts (`npm start -- --serve`, serve.ts). */
  signing: { stripeWebhookSecrets?: string[]; wechatpaySigningFile?: string } = {},
): Promise<void> {
  const details = {
    gatewayUrl: stack.gatewayUrl,
    databaseUrl: stack.databaseUrl,
    queueUrl: stack.queues.queueUrl,
    dlqUrl: stack.queues.dlqUrl,
    sqsEndpoint: stack.queues.endpoint,
    reportsDir: plan.reportsDir,
    reportsUrl: `${stack.gatewayUrl}/reports`,
    reportsToken: plan.reportsToken,
    // GET {ordersUrl}/{provider}/{account}/{merchantOrderNo} with Authorization: Bearer <ordersToken>.
    ordersUrl: `${stack.gatewayUrl}/orders`,
    ordersToken: plan.ordersToken,
    logFile: stack.logFile,
    wechatpayMerchantsFile: plan.wechatpayMerchantsFile,
    providerApiUrl: sandbox.url,
    // The provider sandbox's own test key: it opens nothing but the sandbox.
    stripeApiKey: plan.stripeApiKey,
    webhooks: {
      stripe: `${stack.gatewayUrl}/webhooks/stripe`,
      wechatpay: `${stack.gatewayUrl}/webhooks/wechatpay`,
    },
    ...signing,
    // The console's local login (packages/local/src/console.ts): open consoleUrl and log in as one of these users.
    consoleUrl: stack.console?.url,
    consoleUsers: plan.consoleUsers,
  };
  await writeFile(plan.localJson, `${JSON.stringify(details, null, 2)}\n`, { mode: 0o600 });
}

export function describeStack({ stack, sandbox }: DemoRuntime, plan: DemoPlan): string {
  const redactedDatabaseUrl = stack.databaseUrl.replace(/:[^:@/]+@/, ':***@');
  return `payhooks local stack is up
  gateway   ${stack.gatewayUrl}  (POST /webhooks/stripe, /webhooks/stripe/{account},
            /webhooks/wechatpay, /webhooks/wechatpay/{merchant}; GET /reports and
            GET /orders/{provider}/{account}/{merchantOrderNo} with their bearer tokens from local.json)
  sandbox   ${sandbox.url}  (WeChat Pay /v3 and Stripe /v1 APIs: queries, bills, report runs)
  wechatpay ${plan.wechatpayMerchantsFile}${plan.wechatpaySandbox ? '  (sandbox merchants)' : ''}
  database  ${redactedDatabaseUrl}
  queue     ${stack.queues.queueUrl}  (DLQ ${stack.queues.dlqUrl})
  logs      ${stack.logFile}
  details   ${plan.localJson}
  orders    curl -H "Authorization: Bearer $(node -p "require('${plan.localJson}').ordersToken")" ${stack.gatewayUrl}/orders/{provider}/{account}/{merchantOrderNo}
${consoleLines(stack, plan)}`;
}

/** Where to open the console and who can log in (the passwords are fresh at every start). */
export function consoleLines(stack: { console: { url: string } | undefined }, plan: DemoPlan): string {
  if (!stack.console) return '';
  const users = plan.consoleUsers.map((u) => `${u.username} / ${u.password}`).join(', ');
  return `  console   ${stack.console.url}  (log in as ${users}; also in local.json)
`;
}
