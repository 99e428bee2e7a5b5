// Step 4 of the demo, after the queue drained: the ledger consistency check of each provider's callbacks, printed
// beside what the ingress and the consumer counted.

import type { DeliveryResult } from '@payhooks/testkit/sandbox/stripe-sender';
import type { WechatpayDeliveryResult } from '@payhooks/testkit/sandbox/wechatpay-sender';
import { type CheckReport, checkStripeLedger, checkWechatpayLedger } from '../check.ts';
import type { LocalStack } from '../stack.ts';
import { countOf, countsOf, type MetricTallies } from './metrics.ts';
import type { StripeTraffic } from './stripe-callbacks.ts';
import type { WechatpayTraffic } from './wechatpay-callbacks.ts';

export interface CallbackChecks {
  stripeCheck: CheckReport;
  wechatpayCheck: CheckReport | undefined;
  dlqDepth: number;
}

/** `REASON×n` for each rejection reason the ingress counted for the provider. */
function rejectionReasons(ingress: MetricTallies, provider: string): string {
  return countsOf(ingress, 'CallbackRejected', { provider })
    .map((count) => `${count.dimensions.reason}×${count.value}`)
    .join(' ');
}

const answered = (results: readonly (DeliveryResult | WechatpayDeliveryResult)[], from: number, to: number) =>
  results.filter((r) => r.status >= from && r.status < to);

export async function checkCallbacks(
  stack: LocalStack,
  stripe: StripeTraffic,
  wechatpay: WechatpayTraffic | undefined,
  log: (text: string) => void,
): Promise<CallbackChecks> {
  const stripeCheck = await checkStripeLedger(stack.sql, stripe.merged, stripe.results);
  const dlqDepth = await stack.queues.depth(stack.queues.dlqUrl);
  log(describeStripe(stack, stripe.results, stripeCheck, dlqDepth));
  for (const problem of stripeCheck.problems.slice(0, 20)) log(`  - ${problem}`);

  if (!wechatpay) {
    log(`\nWeChat Pay\n  no sandbox traffic: WECHATPAY_MERCHANTS_FILE names your own merchants`);
    return { stripeCheck, wechatpayCheck: undefined, dlqDepth };
  }
  const wechatpayCheck = await checkWechatpayLedger(stack.sql, wechatpay.scenario, wechatpay.results);
  log(describeWechatpay(stack, wechatpay, wechatpayCheck, dlqDepth));
  for (const problem of wechatpayCheck.problems.slice(0, 20)) log(`  - ${problem}`);
  return { stripeCheck, wechatpayCheck, dlqDepth };
}

function describeStripe(
  { metrics }: LocalStack,
  results: readonly DeliveryResult[],
  check: CheckReport,
  dlqDepth: number,
): string {
  const where = { provider: 'stripe' };
  return `
Stripe
  sent                 ${results.length}
  accepted (2xx)       ${answered(results, 200, 300).length}
  rejected (4xx)       ${answered(results, 400, 500).length}  ${rejectionReasons(metrics.ingress, 'stripe')}
  applied              ${countOf(metrics.consumer, 'EventApplied', where)}
  duplicates absorbed  ${countOf(metrics.consumer, 'EventDuplicate', where)}
  failed attempts      ${countOf(metrics.consumer, 'EventFailed', where)}
  in DLQ               ${dlqDepth}
consistency check      ${check.ok && dlqDepth === 0 ? 'passed' : 'FAILED'}`;
}

function describeWechatpay(
  { metrics }: LocalStack,
  { results }: WechatpayTraffic,
  check: CheckReport,
  dlqDepth: number,
): string {
  const where = { provider: 'wechatpay' };
  const rejected = answered(results, 400, 500).filter((r) => r.kind !== 'probe');
  return `
WeChat Pay
  sent                 ${results.length}
  accepted (2xx)       ${answered(results, 200, 300).length}
  rejected (4xx)       ${rejected.length}  ${rejectionReasons(metrics.ingress, 'wechatpay')}
  probes (SIGNTEST)    ${countOf(metrics.ingress, 'CallbackProbe', where)}
  applied              ${countOf(metrics.consumer, 'EventApplied', where)}
  duplicates absorbed  ${countOf(metrics.consumer, 'EventDuplicate', where)}
  anomalies            ${countOf(metrics.consumer, 'PaymentAnomaly', where)}  (payment ≠ merchant_orders)
  failed attempts      ${countOf(metrics.consumer, 'EventFailed', where)}
  in DLQ               ${dlqDepth}
consistency check      ${check.ok && dlqDepth === 0 ? 'passed' : 'FAILED'}`;
}
