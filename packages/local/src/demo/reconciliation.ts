// Step 6 of the demo: the nightly reconciliation of yesterday against the sandbox's files, checked against the
// deliberate breaks, and printed with where finance finds the reports.
import {
  describeReconciliation,
  type LocalReconResult,
  runLocalReconciliation,
} from '../local-reconciliation.ts';
import { checkReconciliation } from './expected-breaks.ts';
import type { DemoPlan } from './plan.ts';
import type { DemoRuntime } from './start.ts';
import type { StripeTraffic } from './stripe-callbacks.ts';
import { CONNECTED_ACCOUNT, type ExpectedBreak, type ReconCheck } from './types.ts';
import type { WechatpayTraffic } from './wechatpay-callbacks.ts';

export interface Reconciliation {
  recon: LocalReconResult;
  reconCheck: ReconCheck;
  /** Refunds this start's traffic settled, per provider: at least these must match. */
  refundsSettled: Partial<Record<'wechatpay' | 'stripe', number>>;
}

const succeeded = (refunds: Iterable<{ status: string }>) =>
  [...refunds].filter((r) => r.status === 'succeeded').length;

export async function reconcileYesterday(
  { stack, sandbox }: DemoRuntime,
  plan: DemoPlan,
  traffic: { stripe: StripeTraffic; wechatpay: WechatpayTraffic | undefined },
  expectedBreaks: readonly ExpectedBreak[],
  log: (text: string) => void,
): Promise<Reconciliation> {
  const { dates } = plan;
  log(`\nreconciliation: WeChat Pay ${dates.wechatpay} (Asia/Shanghai), Stripe ${dates.stripe} (UTC) …`);
  const recon = await runLocalReconciliation({
    sql: stack.sql,
    env: stack.env,
    reportsDir: plan.reportsDir,
    providerApiUrl: sandbox.url,
    stripeApiKey: plan.stripeApiKey,
    providers: traffic.wechatpay ? ['wechatpay', 'stripe'] : ['stripe'],
    dates,
    // A persistent ledger may already hold a report of the same date from an earlier start.
    force: true,
    stripeAccounts: [CONNECTED_ACCOUNT],
    logger: stack.logger,
  });
  const refundsSettled = {
    stripe: succeeded(traffic.stripe.merged.expected.refunds.values()),
    ...(traffic.wechatpay
      ? { wechatpay: succeeded(traffic.wechatpay.scenario.expected.refunds.values()) }
      : {}),
  };
  const reconCheck = await checkReconciliation(stack.sql, recon, expectedBreaks, { refundsSettled });
  return { recon, reconCheck, refundsSettled };
}

const perProvider = (counts: Record<string, number | undefined>) =>
  Object.entries(counts)
    .map(([provider, n]) => `${provider} ${n}`)
    .join(', ');

export function printReconciliation(
  { recon, reconCheck, refundsSettled }: Reconciliation,
  expectedBreaks: readonly ExpectedBreak[],
  { stack: { gatewayUrl } }: DemoRuntime,
  plan: DemoPlan,
  log: (text: string) => void,
): void {
  for (const r of recon.results) {
    log(describeReconciliation({ ...recon, results: [r] }));
    if (r.status === 'succeeded')
      log(
        `      GET    ${gatewayUrl}/reports/${r.provider}/${r.account || 'platform'}/${r.businessDate}/breaks.csv`,
      );
  }
  log('\nexpected breaks (deliberate differences in the sandbox)');
  for (const b of expectedBreaks) {
    log(
      `  ${b.provider.padEnd(9)} ${(b.account || 'platform').padEnd(10)} ${b.class.padEnd(19)} ${b.id}  ${b.healed ? 'healed' : 'unhealed'}  — ${b.why}`,
    );
  }
  log(
    `refunds matched        ${perProvider(reconCheck.matchedRefunds)}  (settled by this start's traffic: ${perProvider(refundsSettled)})`,
  );
  log(`reconciliation check   ${reconCheck.ok ? 'passed' : 'FAILED'}`);
  for (const problem of reconCheck.problems.slice(0, 20)) log(`  - ${problem}`);
  log(`reports                ${plan.reportsDir}
  finance, locally:    curl -H "Authorization: Bearer $(node -p "require('${plan.localJson}').reportsToken")" ${gatewayUrl}/reports`);
}
