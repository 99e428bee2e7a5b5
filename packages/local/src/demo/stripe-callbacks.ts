// Step 2 of the demo: Stripe traffic placed on yesterday (UTC) — the platform's and a Connect account's — sent as
// signed callbacks with duplicates, reordering and forgeries.
import { buildStripeScenario, type StripeScenario } from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  type DeliveryResult,
  planStripeDeliveries,
  sendDeliveries,
} from '@payhooks/testkit/sandbox/stripe-sender';
import type { DemoPlan } from './plan.ts';
import { CONNECTED_ACCOUNT, type LocalDemoOptions } from './types.ts';

export interface StripeTraffic {
  /** The platform's own scenario: the deliberate differences are planted among its payments. */
  platform: StripeScenario;
  /** Platform and Connect account together: everything sent, and the state the ledger must reach. */
  merged: StripeScenario;
  results: DeliveryResult[];
}

function mergeScenarios(a: StripeScenario, b: StripeScenario): StripeScenario {
  return {
    events: [...a.events, ...b.events],
    expected: {
      payments: new Map([...a.expected.payments, ...b.expected.payments]),
      refunds: new Map([...a.expected.refunds, ...b.expected.refunds]),
      disputes: new Map([...a.expected.disputes, ...b.expected.disputes]),
      mirror: new Map([...a.expected.mirror, ...b.expected.mirror]),
    },
  };
}

export async function sendStripeCallbacks(
  gatewayUrl: string,
  plan: DemoPlan,
  options: Pick<LocalDemoOptions, 'stripePayments' | 'connectPayments'>,
  random: () => number,
  log: (text: string) => void,
): Promise<StripeTraffic> {
  const { seed, stripeStart } = plan;
  const platform = buildStripeScenario({ seed, payments: options.stripePayments, startTime: stripeStart });
  const connect = buildStripeScenario({
    seed: seed + 1,
    payments: options.connectPayments ?? 3,
    account: CONNECTED_ACCOUNT,
    startTime: stripeStart + 1800,
  });
  const merged = mergeScenarios(platform, connect);
  const deliveries = planStripeDeliveries(merged, {
    secrets: plan.sandboxSecrets,
    random,
    duplicateRate: 0.25,
    forgeries: true,
    now: Math.floor(Date.now() / 1000),
  });
  log(
    `sandbox: sending ${deliveries.length} Stripe callbacks (${merged.events.length} events, seed ${seed}) …`,
  );
  const results = await sendDeliveries(gatewayUrl, deliveries, 8);
  return { platform, merged, results };
}
