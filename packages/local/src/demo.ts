// What `npm start` runs, as a function (main.ts calls it; tests call it with port 0 and a test database): the local
// stack, the provider API sandbox, a burst of signed Stripe and WeChat Pay callbacks (duplicates, reordering,
// forgeries) and the ledger consistency check; then the sandbox serves the providers' reconciliation files built
// from the traffic it sent plus deliberate differences, the nightly reconciliation runs for yesterday, and its
// breaks are checked against exactly the deliberate ones. Each step is a module under ./demo/.

import path from 'node:path';
import { prng } from '@payhooks/testkit/sandbox/stripe-scenario';
import { checkCallbacks } from './demo/callback-checks.ts';
import { prepareDemo } from './demo/plan.ts';
import { printReconciliation, reconcileYesterday } from './demo/reconciliation.ts';
import { describeStack, startDemoStack, writeLocalJson } from './demo/start.ts';
import { sendStripeCallbacks } from './demo/stripe-callbacks.ts';
import { stageStripeReports } from './demo/stripe-differences.ts';
import type { LocalDemo, LocalDemoOptions } from './demo/types.ts';
import { sendWechatpayCallbacks } from './demo/wechatpay-callbacks.ts';
import { stageWechatpayBills } from './demo/wechatpay-differences.ts';
import { writeWechatpaySigningFile } from './serve.ts';

export { checkReconciliation } from './demo/expected-breaks.ts';
export {
  CONNECTED_ACCOUNT,
  type ExpectedBreak,
  type LocalDemo,
  type LocalDemoOptions,
} from './demo/types.ts';
export { type ServedStack, serveLocalStack } from './serve.ts';

export async function runLocalDemo(options: LocalDemoOptions): Promise<LocalDemo> {
  const log = options.log ?? ((text: string) => console.log(text));
  const plan = await prepareDemo(options);
  const runtime = await startDemoStack(options, plan);
  const { stack, sandbox } = runtime;
  try {
    await writeLocalJson(runtime, plan, {
      stripeWebhookSecrets: [...plan.sandboxSecrets],
      ...(plan.wechatpaySandbox
        ? {
            wechatpaySigningFile: await writeWechatpaySigningFile(
              path.join(plan.stateDir, 'wechatpay', 'signing.json'),
              plan.wechatpaySandbox,
            ),
          }
        : {}),
    });
    log(describeStack(runtime, plan));

    // One random stream for both providers' deliveries, Stripe's first: a seed replays the same burst.
    const random = prng(plan.seed);
    const stripe = await sendStripeCallbacks(stack.gatewayUrl, plan, options, random, log);
    const wechatpay = plan.wechatpaySandbox
      ? await sendWechatpayCallbacks(stack, plan.wechatpaySandbox, plan, options, random, log)
      : undefined;
    await stack.drain();
    const callbacks = await checkCallbacks(stack, stripe, wechatpay, log);

    const expectedBreaks = [
      ...(wechatpay && sandbox.wechatpay
        ? await stageWechatpayBills(stack.sql, sandbox.wechatpay, wechatpay, plan, log)
        : []),
      ...(await stageStripeReports(stack.sql, sandbox.stripe!, stripe, plan, log)),
    ];
    const reconciliation = await reconcileYesterday(
      runtime,
      plan,
      { stripe, wechatpay },
      expectedBreaks,
      log,
    );
    printReconciliation(reconciliation, expectedBreaks, runtime, plan, log);

    const { stripeCheck, wechatpayCheck, dlqDepth } = callbacks;
    const { recon, reconCheck } = reconciliation;
    const ok = stripeCheck.ok && (wechatpayCheck?.ok ?? true) && dlqDepth === 0 && reconCheck.ok;
    return {
      ok,
      ...runtime,
      localJson: plan.localJson,
      reportsDir: plan.reportsDir,
      reportsToken: plan.reportsToken,
      consoleUsers: plan.consoleUsers,
      dates: plan.dates,
      ...callbacks,
      recon,
      expectedBreaks,
      reconCheck,
    };
  } catch (error) {
    await runtime.stop();
    throw error;
  }
}
