// Step 3 of the demo: WeChat Pay traffic placed on yesterday (Beijing) for the sandbox's merchants. The merchant's
// own order system first records what each order should be paid (one row disagrees: one anomaly), then the
// notifications go out signed, with duplicates, reordering, forgeries and a probe.
import { recordMerchantOrders, type Sql } from '@payhooks/core/ledger';
import type { SandboxMerchants } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { buildWechatpayScenario, type WechatpayScenario } from '@payhooks/testkit/sandbox/wechatpay-scenario';
import {
  planWechatpayDeliveries,
  sendWechatpayDeliveries,
  type WechatpayDeliveryResult,
} from '@payhooks/testkit/sandbox/wechatpay-sender';
import type { DemoPlan } from './plan.ts';
import type { LocalDemoOptions } from './types.ts';

export interface WechatpayTraffic {
  scenario: WechatpayScenario;
  merchants: SandboxMerchants;
  results: WechatpayDeliveryResult[];
}

export async function sendWechatpayCallbacks(
  stack: { gatewayUrl: string; sql: Sql },
  merchants: SandboxMerchants,
  plan: DemoPlan,
  options: Pick<LocalDemoOptions, 'wechatpayPayments'>,
  random: () => number,
  log: (text: string) => void,
): Promise<WechatpayTraffic> {
  const scenario = buildWechatpayScenario({
    seed: plan.seed,
    payments: options.wechatpayPayments,
    merchants: merchants.merchants,
    startTime: plan.wechatpayStart,
  });
  await recordMerchantOrders(stack.sql, 'wechatpay', scenario.merchantOrders);
  const deliveries = planWechatpayDeliveries(scenario, {
    merchants: merchants.merchants,
    random,
    duplicateRate: 0.25,
    forgeries: true,
    now: Math.floor(Date.now() / 1000),
  });
  log(
    `sandbox: sending ${deliveries.length} WeChat Pay notifications (${scenario.notifications.length} notifications, ${merchants.merchants.length} merchants) …`,
  );
  const results = await sendWechatpayDeliveries(stack.gatewayUrl, deliveries, 8);
  return { scenario, merchants, results };
}
