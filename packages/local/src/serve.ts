// `npm start -- --serve`: the local stack and the provider sandbox, nothing sent and nothing seeded — for
// developers who point `stripe listen --forward-to`, `payhooks trigger` or their own app at the gateway.
// local.json then carries the stack's own webhook secrets and the sandbox merchants' signing material (local
// only), so scripts can sign callbacks the gateway accepts.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SandboxMerchants } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { prepareDemo } from './demo/plan.ts';
import { consoleLines, type DemoRuntime, startDemoStack, writeLocalJson } from './demo/start.ts';
import type { LocalDemoOptions } from './demo/types.ts';

export type ServeOptions = Omit<
  LocalDemoOptions,
  'seed' | 'stripePayments' | 'wechatpayPayments' | 'connectPayments' | 'log'
>;

export interface ServedStack extends DemoRuntime {
  localJson: string;
  reportsToken: string;
  /** Where to open the console and its users, for the terminal. */
  consoleLines: string;
}

/**
 * The sandbox merchants' notification signing keys, as `payhooks trigger wechatpay` needs them (mode 0600, in
 * the state folder: they sign only for the sandbox's generated merchants, which exist nowhere else).
 */
export async function writeWechatpaySigningFile(file: string, merchants: SandboxMerchants): Promise<string> {
  const document = {
    merchants: merchants.merchants.map((m) => ({
      id: m.id,
      mchid: m.mchid,
      appid: m.appid,
      apiv3Key: m.apiv3Key,
      signingKey: {
        serial: m.keys[0].serial,
        privateKeyPem: m.keys[0].privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    })),
  };
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
  return file;
}

export async function serveLocalStack(options: ServeOptions): Promise<ServedStack> {
  const nothingSent: LocalDemoOptions = { ...options, seed: 0, stripePayments: 0, wechatpayPayments: 0 };
  const plan = await prepareDemo(nothingSent);
  const runtime = await startDemoStack(nothingSent, plan);
  try {
    const wechatpaySigningFile = plan.wechatpaySandbox
      ? await writeWechatpaySigningFile(
          path.join(plan.stateDir, 'wechatpay', 'signing.json'),
          plan.wechatpaySandbox,
        )
      : undefined;
    await writeLocalJson(runtime, plan, {
      stripeWebhookSecrets: [...plan.sandboxSecrets],
      ...(wechatpaySigningFile ? { wechatpaySigningFile } : {}),
    });
    return {
      ...runtime,
      localJson: plan.localJson,
      reportsToken: plan.reportsToken,
      consoleLines: consoleLines(runtime.stack, plan),
    };
  } catch (error) {
    await runtime.stop();
    throw error;
  }
}
