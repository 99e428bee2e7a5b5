// Step 5 of the demo (Stripe): what Stripe's reports for yesterday hold — the events sent, plus three deliberate
// differences the reconciliation must find, plus the traffic of earlier starts in a persistent ledger.
import { listSettled, type Sql } from '@payhooks/core/ledger';
import { businessWindow } from '@payhooks/core/recon/run';
import type { StripeProviderSandbox } from '@payhooks/testkit/sandbox/provider-api';
import {
  prng,
  type StripeEventJson,
  StripeHistory,
  type StripeScenario,
  stripeId,
} from '@payhooks/testkit/sandbox/stripe-scenario';
import { DemoScenarioError } from '../errors.ts';
import { deliberatePaymentBreaks } from './expected-breaks.ts';
import type { DemoPlan } from './plan.ts';
import type { StripeTraffic } from './stripe-callbacks.ts';
import { CONNECTED_ACCOUNT, type ExpectedBreak } from './types.ts';

/** A payment the sandbox registers at the provider but never sends: only the report (and the API) know it. */
function unnotifiedStripePayment(
  seed: number,
  at: number,
): { events: StripeEventJson[]; paymentIntentId: string } {
  const random = prng(seed ^ 0x5f3759df);
  const h = new StripeHistory(random);
  const amount = 4242;
  const pi = {
    id: stripeId('pi', random),
    object: 'payment_intent',
    amount,
    amount_received: 0,
    currency: 'usd',
    status: 'requires_payment_method',
    created: at,
    customer: null,
    metadata: { order_id: `ORD-${seed}-NEVER-NOTIFIED` },
    latest_charge: null,
    last_payment_error: null,
    livemode: false,
  };
  const charge = {
    id: stripeId('ch', random),
    object: 'charge',
    amount,
    amount_captured: amount,
    amount_refunded: 0,
    captured: true,
    currency: 'usd',
    status: 'succeeded',
    payment_intent: pi.id,
    customer: null,
    created: at + 2,
    metadata: pi.metadata,
    refunded: false,
    livemode: false,
    balance_transaction: stripeId('txn', random),
  };
  h.emit('payment_intent.created', at, pi);
  h.emit('payment_intent.succeeded', at + 2, {
    ...pi,
    status: 'succeeded',
    amount_received: amount,
    latest_charge: charge.id,
  });
  h.emit('charge.succeeded', at + 2, charge);
  return { events: h.events, paymentIntentId: pi.id };
}

/** Succeeded payments of a scenario with no refund and no dispute, with their charge and amount. */
function plainStripePayments(
  scenario: StripeScenario,
): { paymentIntentId: string; chargeId: string; amount: number }[] {
  const touched = new Set<string>();
  for (const refund of scenario.expected.refunds.values()) touched.add(refund.paymentId);
  const out: { paymentIntentId: string; chargeId: string; amount: number }[] = [];
  for (const event of scenario.events) {
    const object = event.data.object;
    if (event.type === 'charge.dispute.created') touched.add(String(object.payment_intent));
    if (event.type === 'charge.succeeded' && typeof object.payment_intent === 'string')
      out.push({
        paymentIntentId: object.payment_intent,
        chargeId: String(object.id),
        amount: Number(object.amount),
      });
  }
  return out.filter(
    (p) =>
      !touched.has(p.paymentIntentId) &&
      scenario.expected.payments.get(p.paymentIntentId)?.status === 'succeeded',
  );
}

/**
 * Registers the events sent and one never sent, with two of the platform's plain payments changed in the report
 * (one left out, one 100 minor units more); returns the breaks that must follow and the ids of everything registered.
 */
function plantStripeDifferences(
  st: StripeProviderSandbox,
  { platform, merged }: StripeTraffic,
  plan: DemoPlan,
): { breaks: ExpectedBreak[]; ids: Set<string> } {
  const never = unnotifiedStripePayment(plan.seed, plan.stripeStart + 900);
  const [notInReport, differs] = plainStripePayments(platform);
  if (!notInReport || !differs)
    throw new DemoScenarioError('the Stripe scenario needs two succeeded payments without refund or dispute');
  st.addEvents(merged.events);
  st.addEvents(never.events);
  st.deriveBalanceTransactions({
    exclude: [notInReport.chargeId],
    grossOverrides: { [differs.chargeId]: differs.amount + 100 },
  });
  const breaks = deliberatePaymentBreaks(
    'stripe',
    '',
    {
      neverNotified: never.paymentIntentId,
      notInFile: notInReport.paymentIntentId,
      amountDiffers: differs.paymentIntentId,
    },
    {
      neverNotified: 'charged, never notified (report only)',
      notInFile: 'notified, missing from the report',
      amountDiffers: 'the report shows 100 minor units more',
    },
  );
  const ids = new Set([
    ...merged.expected.payments.keys(),
    ...merged.expected.refunds.keys(),
    never.paymentIntentId,
  ]);
  return { breaks, ids };
}

/** Earlier starts on the same business day (a persistent ledger): their traffic is the provider's too. */
async function addEarlierStripeTraffic(
  sql: Sql,
  st: StripeProviderSandbox,
  plan: DemoPlan,
  registered: ReadonlySet<string>,
  log: (text: string) => void,
): Promise<void> {
  const window = businessWindow('stripe', plan.dates.stripe);
  const settled = await listSettled(sql, 'stripe', ['', CONNECTED_ACCOUNT], window);
  const payments = settled.payments.filter((p) => !registered.has(p.id));
  const refunds = settled.refunds.filter((r) => !registered.has(r.id));
  st.addBalanceTransactions([
    ...payments.map((p) => ({
      created: p.succeededAt,
      currency: p.currency,
      grossMinor: p.amountMinor,
      reportingCategory: 'charge',
      paymentIntentId: p.id,
      connectedAccountId: p.account || null,
    })),
    ...refunds.map((r) => ({
      created: r.succeededAt,
      currency: r.currency,
      grossMinor: -r.amountMinor,
      reportingCategory: 'refund',
      sourceId: r.id,
      paymentIntentId: r.paymentId,
      connectedAccountId: r.account || null,
    })),
  ]);
  if (payments.length + refunds.length > 0)
    log(
      `sandbox: ${payments.length} payment(s) and ${refunds.length} refund(s) of ${plan.dates.stripe} from earlier starts are in the Stripe reports too`,
    );
}

/** What Stripe's reports for yesterday hold; returns the breaks the reconciliation must report. */
export async function stageStripeReports(
  sql: Sql,
  st: StripeProviderSandbox,
  traffic: StripeTraffic,
  plan: DemoPlan,
  log: (text: string) => void,
): Promise<ExpectedBreak[]> {
  const { breaks, ids } = plantStripeDifferences(st, traffic, plan);
  await addEarlierStripeTraffic(sql, st, plan, ids, log);
  return breaks;
}
