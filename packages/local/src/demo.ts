// What `npm start` runs, as a function (main.ts calls it; tests call it with port 0 and a test database): the local
// stack, the provider API sandbox, a burst of signed Stripe and WeChat Pay callbacks (duplicates, reordering,
// forgeries) and the ledger consistency check; then the sandbox serves the providers' reconciliation files built
// from the traffic it sent plus deliberate differences, the nightly reconciliation runs for yesterday, and its
// breaks are checked against exactly the deliberate ones.
import { randomBytes, randomInt } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sql } from '@payhooks/core/ledger';
import { businessWindow, previousBusinessDate } from '@payhooks/core/recon/run/index';
import type { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import type { Env } from '@payhooks/functions/config';
import {
  type ProviderSandbox,
  randomStripeSecretKey,
  type SandboxRefundInput,
  type SandboxTransactionInput,
  sandboxMerchantsFromGenerated,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import {
  buildStripeScenario,
  prng,
  randomWebhookSecret,
  type StripeEventJson,
  StripeHistory,
  type StripeScenario,
  stripeId,
} from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  type DeliveryResult,
  planStripeDeliveries,
  sendDeliveries,
} from '@payhooks/testkit/sandbox/stripe-sender';
import { generateSandboxMerchants, writeMerchantsFile } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { buildWechatpayScenario, type WechatpayScenario } from '@payhooks/testkit/sandbox/wechatpay-scenario';
import {
  planWechatpayDeliveries,
  sendWechatpayDeliveries,
  type WechatpayDeliveryResult,
} from '@payhooks/testkit/sandbox/wechatpay-sender';
import { type CheckReport, checkStripeLedger, checkWechatpayLedger } from './check.ts';
import { describeReconciliation, type LocalReconResult, runLocalReconciliation } from './recon.ts';
import { type LocalStack, startLocalStack } from './stack.ts';

export const CONNECTED_ACCOUNT = 'acct_1SandboxConnected';

export interface LocalDemoOptions {
  /** Folder for data, logs, reports and local.json. */
  stateDir: string;
  /** Gateway port (0: a free one). */
  port: number;
  /** External database instead of the embedded one. */
  databaseUrl?: string;
  pgPort?: number;
  fastPostgres?: boolean;
  /** Endpoint secrets accepted besides the sandbox's own (e.g. from `stripe listen`). */
  extraStripeSecrets?: readonly string[];
  /** Your own WeChat Pay merchants: the sandbox then sends and reconciles no WeChat Pay traffic. */
  wechatpayMerchantsFile?: string;
  /** Default `<stateDir>/reports`. */
  reportsDir?: string;
  consumerConcurrency?: number;
  seed: number;
  stripePayments: number;
  connectPayments?: number;
  wechatpayPayments: number;
  /** "Now" for the nightly run: the traffic is placed on yesterday of this instant. Default: the clock. */
  now?: Date;
  /** Extra handler environment. */
  env?: Env;
  log?: (text: string) => void;
}

/** One break the reconciliation must report: its class before healing, the object, and whether it healed. */
export interface ExpectedBreak {
  provider: 'wechatpay' | 'stripe';
  /** WeChat mchid, Stripe `''` (platform) or `acct_…`. */
  account: string;
  class: string;
  kind: 'payment' | 'refund';
  id: string;
  healed: boolean;
  why: string;
}

export interface LocalDemo {
  ok: boolean;
  stack: LocalStack;
  sandbox: ProviderSandbox;
  localJson: string;
  reportsDir: string;
  reportsToken: string;
  dates: { wechatpay: string; stripe: string };
  stripeCheck: CheckReport;
  wechatpayCheck: CheckReport | undefined;
  dlqDepth: number;
  recon: LocalReconResult;
  expectedBreaks: ExpectedBreak[];
  reconCheck: CheckReport & { matchedRefunds: Record<string, number> };
  stop(): Promise<void>;
}

const beijing = (unixSeconds: number) =>
  `${new Date((unixSeconds + 8 * 3600) * 1000).toISOString().slice(0, 19)}+08:00`;

/** The notifications' last word on each paid order and refund, as WeChat Pay holds them. */
function wechatpayRecords(scenario: WechatpayScenario): {
  transactions: SandboxTransactionInput[];
  refunds: SandboxRefundInput[];
} {
  const transactions = new Map<string, SandboxTransactionInput>();
  const refunds = new Map<string, SandboxRefundInput>();
  for (const n of scenario.notifications) {
    const r = n.resource as Record<string, unknown> & { amount?: Record<string, number> };
    if (n.originalType === 'transaction' && typeof r.out_trade_no === 'string' && r.amount) {
      if (transactions.has(r.out_trade_no)) continue; // notified twice
      transactions.set(r.out_trade_no, {
        mchid: String(r.mchid),
        outTradeNo: r.out_trade_no,
        transactionId: String(r.transaction_id),
        amountFen: r.amount.total!,
        successTime: String(r.success_time),
      });
    } else if (n.originalType === 'refund' && r.amount) {
      const refundId = String(r.refund_id);
      const status = String(r.refund_status) as NonNullable<SandboxRefundInput['status']>;
      const earlier = refunds.get(refundId);
      refunds.set(refundId, {
        outTradeNo: String(r.out_trade_no),
        outRefundNo: String(r.out_refund_no),
        refundId,
        amountFen: r.amount.refund!,
        status,
        createTime: earlier?.createTime ?? n.createTime,
        ...(typeof r.success_time === 'string' ? { successTime: r.success_time } : {}),
      });
    }
  }
  return { transactions: [...transactions.values()], refunds: [...refunds.values()] };
}

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
 * Objects of the business day that earlier starts put into the (persistent) ledger: the sandbox of those starts
 * sent them, so today's sandbox lists them too — the provider knows every payment it processed.
 */
async function earlierTraffic(
  sql: Sql,
  provider: 'wechatpay' | 'stripe',
  accounts: readonly string[],
  window: { start: Date; end: Date },
  exclude: ReadonlySet<string>,
) {
  const payments = await sql<
    { id: string; account: string; order_no: string | null; amount: bigint; currency: string; at: Date }[]
  >`select provider_payment_id as id, account, merchant_order_no as order_no, amount_minor as amount,
      trim(currency) as currency, succeeded_at as at
    from payments where provider = ${provider} and account in ${sql([...accounts])} and status = 'succeeded'
      and succeeded_at >= ${window.start} and succeeded_at < ${window.end}`;
  const refunds = await sql<
    {
      id: string;
      payment_id: string | null;
      account: string;
      refund_no: string | null;
      amount: bigint;
      currency: string;
      at: Date;
    }[]
  >`select provider_refund_id as id, provider_payment_id as payment_id, account, merchant_refund_no as refund_no,
      amount_minor as amount, trim(currency) as currency, succeeded_at as at
    from refunds where provider = ${provider} and account in ${sql([...accounts])} and status = 'succeeded'
      and succeeded_at >= ${window.start} and succeeded_at < ${window.end}`;
  return {
    payments: payments.filter((p) => !exclude.has(p.id)),
    refunds: refunds.filter((r) => !exclude.has(r.id)),
  };
}

export async function runLocalDemo(options: LocalDemoOptions): Promise<LocalDemo> {
  const log = options.log ?? ((text: string) => console.log(text));
  const stateDir = path.resolve(options.stateDir);
  const seed = options.seed;
  const now = options.now ?? new Date();
  const dates = {
    wechatpay: previousBusinessDate('wechatpay', now),
    stripe: previousBusinessDate('stripe', now),
  };
  // Mid-day of yesterday in each provider's zone: the whole burst (minutes) stays far from midnight.
  const stripeStart = Math.floor(businessWindow('stripe', dates.stripe).start.getTime() / 1000) + 12 * 3600;
  const wechatpayStart =
    Math.floor(businessWindow('wechatpay', dates.wechatpay).start.getTime() / 1000) + 12 * 3600;

  const sandboxSecrets = [randomWebhookSecret(), randomWebhookSecret()] as const;
  const ownWechatpayFile = options.wechatpayMerchantsFile;
  const wechatpaySandbox = ownWechatpayFile ? undefined : await generateSandboxMerchants();
  const wechatpayMerchantsFile =
    ownWechatpayFile ??
    (await writeMerchantsFile(
      path.join(stateDir, 'wechatpay', 'merchants.json'),
      wechatpaySandbox!.document,
    ));
  const reportsDir = path.resolve(options.reportsDir ?? path.join(stateDir, 'reports'));
  const reportsToken = randomBytes(24).toString('base64url');
  const stripeApiKey = randomStripeSecretKey();

  const stack = await startLocalStack({
    stateDir,
    port: options.port,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.pgPort !== undefined ? { pgPort: options.pgPort } : {}),
    ...(options.fastPostgres !== undefined ? { fastPostgres: options.fastPostgres } : {}),
    stripeWebhookSecrets: [...(options.extraStripeSecrets ?? []), ...sandboxSecrets],
    consumerConcurrency: options.consumerConcurrency ?? 2,
    wechatpayMerchantsFile,
    reportsDir,
    reportsToken,
    ...(options.env ? { env: options.env } : {}),
  });
  let sandbox: ProviderSandbox;
  try {
    sandbox = await startProviderSandbox({
      ...(wechatpaySandbox
        ? { wechatpay: { merchants: sandboxMerchantsFromGenerated(wechatpaySandbox) } }
        : {}),
      stripe: { apiKey: stripeApiKey },
    });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const stop = async () => {
    await sandbox.stop().catch(() => {});
    await stack.stop();
  };

  try {
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
          reportsUrl: `${stack.gatewayUrl}/reports`,
          reportsToken,
          logFile: stack.logFile,
          wechatpayMerchantsFile,
          providerApiUrl: sandbox.url,
          // The provider sandbox's own test key: it opens nothing but the sandbox.
          stripeApiKey,
          webhooks: {
            stripe: `${stack.gatewayUrl}/webhooks/stripe`,
            wechatpay: `${stack.gatewayUrl}/webhooks/wechatpay`,
          },
        },
        null,
        2,
      )}\n`,
      { mode: 0o600 },
    );

    log(`payhooks local stack is up
  gateway   ${stack.gatewayUrl}  (POST /webhooks/stripe, /webhooks/stripe/{account},
            /webhooks/wechatpay, /webhooks/wechatpay/{merchant}; GET /reports with the bearer token)
  sandbox   ${sandbox.url}  (WeChat Pay /v3 and Stripe /v1 APIs: queries, bills, report runs)
  wechatpay ${wechatpayMerchantsFile}${ownWechatpayFile ? '' : '  (sandbox merchants)'}
  database  ${redactedDatabaseUrl}
  queue     ${stack.queues.queueUrl}  (DLQ ${stack.queues.dlqUrl})
  logs      ${stack.logFile}
  details   ${localJson}
`);

    // --- Stripe traffic, placed on yesterday (UTC) ---
    const random = prng(seed);
    const scenario = buildStripeScenario({ seed, payments: options.stripePayments, startTime: stripeStart });
    const connect = buildStripeScenario({
      seed: seed + 1,
      payments: options.connectPayments ?? 3,
      account: CONNECTED_ACCOUNT,
      startTime: stripeStart + 1800,
    });
    const merged: StripeScenario = {
      events: [...scenario.events, ...connect.events],
      expected: scenario.expected,
    };
    for (const [key, value] of Object.entries(connect.expected) as [
      keyof StripeScenario['expected'],
      Map<string, never>,
    ][]) {
      for (const [id, state] of value) (merged.expected[key] as Map<string, never>).set(id, state);
    }
    const deliveries = planStripeDeliveries(merged, {
      secrets: sandboxSecrets,
      random,
      duplicateRate: 0.25,
      forgeries: true,
      now: Math.floor(Date.now() / 1000),
    });
    log(
      `sandbox: sending ${deliveries.length} Stripe callbacks (${merged.events.length} events, seed ${seed}) …`,
    );
    const results: DeliveryResult[] = await sendDeliveries(stack.gatewayUrl, deliveries, 8);

    // --- WeChat Pay traffic, placed on yesterday (Beijing) ---
    const wechatpay =
      wechatpaySandbox &&
      buildWechatpayScenario({
        seed,
        payments: options.wechatpayPayments,
        merchants: wechatpaySandbox.merchants,
        startTime: wechatpayStart,
      });
    const wechatpayResults: WechatpayDeliveryResult[] = [];
    if (wechatpay && wechatpaySandbox) {
      // The merchant's own order system writes what each order should be paid; one row disagrees (→ 1 anomaly).
      for (const order of wechatpay.merchantOrders) {
        await stack.sql`insert into merchant_orders (provider, merchant_order_no, amount_minor, currency)
          values ('wechatpay', ${order.merchantOrderNo}, ${order.amountMinor.toString()}, ${order.currency})
          on conflict (provider, account, merchant_order_no) do update set amount_minor = excluded.amount_minor, currency = excluded.currency`;
      }
      const wechatpayDeliveries = planWechatpayDeliveries(wechatpay, {
        merchants: wechatpaySandbox.merchants,
        random,
        duplicateRate: 0.25,
        forgeries: true,
        now: Math.floor(Date.now() / 1000),
      });
      log(
        `sandbox: sending ${wechatpayDeliveries.length} WeChat Pay notifications (${wechatpay.notifications.length} notifications, ${wechatpaySandbox.merchants.length} merchants) …`,
      );
      wechatpayResults.push(...(await sendWechatpayDeliveries(stack.gatewayUrl, wechatpayDeliveries, 8)));
    }
    await stack.drain();

    // --- The callback consistency checks ---
    const stripeCheck = await checkStripeLedger(stack.sql, merged, results);
    const dlqDepth = await stack.queues.depth(stack.queues.dlqUrl);
    const countOf = (metrics: MemoryMetrics, name: string, provider: string) =>
      [...metrics.counts]
        .filter(([key]) => key.startsWith(`${name}{`) && key.includes(`provider=${provider}`))
        .reduce((sum, [, n]) => sum + n, 0);
    const reasonsOf = (provider: string) =>
      [...stack.metrics.ingress.counts]
        .filter(([key]) => key.startsWith('CallbackRejected{') && key.includes(`provider=${provider}`))
        .map(([key, n]) => `${key.replace(/^.*reason=(\w+).*$/, '$1')}×${n}`);
    const accepted = results.filter((r) => r.status >= 200 && r.status < 300).length;
    const rejected = results.filter((r) => r.status >= 400 && r.status < 500).length;
    log(`
Stripe
  sent                 ${results.length}
  accepted (2xx)       ${accepted}
  rejected (4xx)       ${rejected}  ${reasonsOf('stripe').join(' ')}
  applied              ${countOf(stack.metrics.consumer, 'EventApplied', 'stripe')}
  duplicates absorbed  ${countOf(stack.metrics.consumer, 'EventDuplicate', 'stripe')}
  failed attempts      ${countOf(stack.metrics.consumer, 'EventFailed', 'stripe')}
  in DLQ               ${dlqDepth}
consistency check      ${stripeCheck.ok && dlqDepth === 0 ? 'passed' : 'FAILED'}`);
    for (const problem of stripeCheck.problems.slice(0, 20)) log(`  - ${problem}`);

    const wechatpayCheck = wechatpay
      ? await checkWechatpayLedger(stack.sql, wechatpay, wechatpayResults)
      : undefined;
    if (wechatpayCheck) {
      const wxAccepted = wechatpayResults.filter((r) => r.status >= 200 && r.status < 300).length;
      const wxRejected = wechatpayResults.filter(
        (r) => r.status >= 400 && r.status < 500 && r.kind !== 'probe',
      ).length;
      log(`
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
      for (const problem of wechatpayCheck.problems.slice(0, 20)) log(`  - ${problem}`);
    } else {
      log(`\nWeChat Pay\n  no sandbox traffic: WECHATPAY_MERCHANTS_FILE names your own merchants`);
    }

    // --- What the providers hold: the traffic sent plus deliberate differences ---
    const expectedBreaks: ExpectedBreak[] = [];
    const wx = sandbox.wechatpay;
    if (wechatpay && wx && wechatpaySandbox) {
      const { transactions, refunds } = wechatpayRecords(wechatpay);
      const mchid = wechatpaySandbox.merchants[0]!.mchid;
      const refunded = new Set(refunds.map((r) => r.outTradeNo));
      const plain = transactions.filter((t) => t.mchid === mchid && !refunded.has(t.outTradeNo));
      const [notInBill, differs] = plain;
      if (!notInBill || !differs)
        throw new Error('the WeChat Pay scenario needs two unrefunded payments of the first merchant');
      for (const tx of transactions) {
        wx.addTransaction({
          ...tx,
          ...(tx === notInBill ? { inBill: false } : {}),
          ...(tx === differs ? { billAmountFen: Number(tx.amountFen) + 1 } : {}),
        });
      }
      for (const refund of refunds) wx.addRefund(refund);
      const never = wx.addTransaction({
        mchid,
        outTradeNo: `WX-${seed}-NEVER-NOTIFIED`,
        // Unique across starts: a persistent ledger holds the earlier starts' ones (healed then).
        transactionId: `4200002345${dates.wechatpay.replaceAll('-', '')}${randomInt(10 ** 9, 10 ** 10)}`,
        amountFen: 8800,
        successTime: beijing(wechatpayStart + 900),
        notified: false,
      });
      expectedBreaks.push(
        {
          provider: 'wechatpay',
          account: mchid,
          class: 'missing_in_ledger',
          kind: 'payment',
          id: never.transactionId!,
          healed: true,
          why: 'paid, never notified (bill only)',
        },
        {
          provider: 'wechatpay',
          account: mchid,
          class: 'missing_at_provider',
          kind: 'payment',
          id: notInBill.transactionId!,
          healed: false,
          why: 'notified, missing from the bill',
        },
        {
          provider: 'wechatpay',
          account: mchid,
          class: 'amount_mismatch',
          kind: 'payment',
          id: differs.transactionId!,
          healed: false,
          why: 'the bill shows 0.01 CNY more',
        },
      );
      // Earlier starts on the same business day (a persistent ledger): their traffic is the provider's too.
      const ids = new Set([
        ...transactions.map((t) => t.transactionId!),
        ...refunds.map((r) => r.refundId!),
        never.transactionId!,
      ]);
      const earlier = await earlierTraffic(
        stack.sql,
        'wechatpay',
        wechatpaySandbox.merchants.map((m) => m.mchid),
        businessWindow('wechatpay', dates.wechatpay),
        ids,
      );
      const known = new Set<string>();
      for (const p of earlier.payments) {
        wx.addTransaction({
          mchid: p.account,
          outTradeNo: p.order_no ?? `EARLIER-${p.id}`,
          transactionId: p.id,
          amountFen: p.amount,
          currency: p.currency,
          successTime: p.at,
        });
        known.add(p.id);
      }
      for (const r of earlier.refunds) {
        const tx = wx.transactions().find((t) => t.transactionId === r.payment_id);
        if (!tx || !r.refund_no) continue;
        wx.addRefund({
          outTradeNo: tx.outTradeNo,
          outRefundNo: r.refund_no,
          refundId: r.id,
          amountFen: r.amount,
          successTime: r.at,
        });
      }
      if (earlier.payments.length + earlier.refunds.length > 0)
        log(
          `\nsandbox: ${earlier.payments.length} payment(s) and ${earlier.refunds.length} refund(s) of ${dates.wechatpay} from earlier starts are in the WeChat Pay bills too`,
        );
    }

    const st = sandbox.stripe!;
    const never = unnotifiedStripePayment(seed, stripeStart + 900);
    const plain = plainStripePayments(scenario);
    const [notInReport, differs] = plain;
    if (!notInReport || !differs)
      throw new Error('the Stripe scenario needs two succeeded payments without refund or dispute');
    st.addEvents(merged.events);
    st.addEvents(never.events);
    st.deriveBalanceTransactions({
      exclude: [notInReport.chargeId],
      grossOverrides: { [differs.chargeId]: differs.amount + 100 },
    });
    expectedBreaks.push(
      {
        provider: 'stripe',
        account: '',
        class: 'missing_in_ledger',
        kind: 'payment',
        id: never.paymentIntentId,
        healed: true,
        why: 'charged, never notified (report only)',
      },
      {
        provider: 'stripe',
        account: '',
        class: 'missing_at_provider',
        kind: 'payment',
        id: notInReport.paymentIntentId,
        healed: false,
        why: 'notified, missing from the report',
      },
      {
        provider: 'stripe',
        account: '',
        class: 'amount_mismatch',
        kind: 'payment',
        id: differs.paymentIntentId,
        healed: false,
        why: 'the report shows 100 minor units more',
      },
    );
    {
      const ids = new Set([
        ...merged.expected.payments.keys(),
        ...merged.expected.refunds.keys(),
        never.paymentIntentId,
      ]);
      const earlier = await earlierTraffic(
        stack.sql,
        'stripe',
        ['', CONNECTED_ACCOUNT],
        businessWindow('stripe', dates.stripe),
        ids,
      );
      st.addBalanceTransactions([
        ...earlier.payments.map((p) => ({
          created: p.at,
          currency: p.currency,
          grossMinor: p.amount,
          reportingCategory: 'charge',
          paymentIntentId: p.id,
          connectedAccountId: p.account || null,
        })),
        ...earlier.refunds.map((r) => ({
          created: r.at,
          currency: r.currency,
          grossMinor: -r.amount,
          reportingCategory: 'refund',
          sourceId: r.id,
          paymentIntentId: r.payment_id,
          connectedAccountId: r.account || null,
        })),
      ]);
      if (earlier.payments.length + earlier.refunds.length > 0)
        log(
          `sandbox: ${earlier.payments.length} payment(s) and ${earlier.refunds.length} refund(s) of ${dates.stripe} from earlier starts are in the Stripe reports too`,
        );
    }

    // --- The nightly reconciliation of yesterday ---
    log(`\nreconciliation: WeChat Pay ${dates.wechatpay} (Asia/Shanghai), Stripe ${dates.stripe} (UTC) …`);
    const recon = await runLocalReconciliation({
      sql: stack.sql,
      env: stack.env,
      reportsDir,
      providerApiUrl: sandbox.url,
      stripeApiKey,
      providers: wechatpay ? ['wechatpay', 'stripe'] : ['stripe'],
      dates,
      // A persistent ledger may already hold a report of the same date from an earlier start.
      force: true,
      stripeAccounts: [CONNECTED_ACCOUNT],
      logger: stack.logger,
    });
    const refundsSettled = {
      stripe: [...merged.expected.refunds.values()].filter((r) => r.status === 'succeeded').length,
      ...(wechatpay
        ? {
            wechatpay: [...wechatpay.expected.refunds.values()].filter((r) => r.status === 'succeeded')
              .length,
          }
        : {}),
    };
    const reconCheck = await checkReconciliation(stack.sql, recon, expectedBreaks, { refundsSettled });
    for (const r of recon.results) {
      log(describeReconciliation({ ...recon, results: [r] }));
      if (r.status === 'succeeded')
        log(
          `      GET    ${stack.gatewayUrl}/reports/${r.provider}/${r.account || 'platform'}/${r.businessDate}/breaks.csv`,
        );
    }
    log('\nexpected breaks (deliberate differences in the sandbox)');
    for (const b of expectedBreaks) {
      log(
        `  ${b.provider.padEnd(9)} ${(b.account || 'platform').padEnd(10)} ${b.class.padEnd(19)} ${b.id}  ${b.healed ? 'healed' : 'unhealed'}  — ${b.why}`,
      );
    }
    log(
      `refunds matched        ${Object.entries(reconCheck.matchedRefunds)
        .map(([provider, n]) => `${provider} ${n}`)
        .join(', ')}  (settled by this start's traffic: ${Object.entries(refundsSettled)
        .map(([provider, n]) => `${provider} ${n}`)
        .join(', ')})`,
    );
    log(`reconciliation check   ${reconCheck.ok ? 'passed' : 'FAILED'}`);
    for (const problem of reconCheck.problems.slice(0, 20)) log(`  - ${problem}`);
    log(`reports                ${reportsDir}
  finance, locally:    curl -H "Authorization: Bearer $(node -p "require('${localJson}').reportsToken")" ${stack.gatewayUrl}/reports`);

    const ok = stripeCheck.ok && (wechatpayCheck?.ok ?? true) && dlqDepth === 0 && reconCheck.ok;
    return {
      ok,
      stack,
      sandbox,
      localJson,
      reportsDir,
      reportsToken,
      dates,
      stripeCheck,
      wechatpayCheck,
      dlqDepth,
      recon,
      expectedBreaks,
      reconCheck,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Every run succeeded, and its breaks are exactly the expected ones (class before healing, id, healed or not). */
export async function checkReconciliation(
  sql: Sql,
  recon: LocalReconResult,
  expected: readonly ExpectedBreak[],
  options: { refundsSettled?: Partial<Record<'wechatpay' | 'stripe', number>> } = {},
): Promise<CheckReport & { matchedRefunds: Record<string, number> }> {
  const problems: string[] = [];
  const actual: string[] = [];
  for (const r of recon.results) {
    if (r.status !== 'succeeded' || !r.runId) {
      problems.push(
        `${r.provider} ${r.account || 'platform'} ${r.businessDate}: run ${r.status}${r.error ? ` (${r.error.code}: ${r.error.message})` : ''}`,
      );
      continue;
    }
    const rows = await sql<{ class: string; healed: boolean; kind: string; id: string | null }[]>`
      select coalesce(healed_from, class) as class, healed_from is not null as healed, kind,
             coalesce(provider_refund_id, payout_id, provider_payment_id, merchant_order_no) as id
      from recon_items
      where run_id = ${r.runId} and ((class <> 'matched' and class <> 'pending_next_bill') or healed_from is not null)`;
    for (const row of rows)
      actual.push(
        `${r.provider}/${r.account}/${row.class}/${row.kind}/${row.id}/${row.healed ? 'healed' : 'unhealed'}`,
      );
  }
  // The refunds the traffic settled that day are in the files and match (the Stripe connected account's too).
  const runIds = recon.results.flatMap((r) => (r.runId && r.status === 'succeeded' ? [r.runId] : []));
  const matchedRefunds = await sql<{ provider: string; n: number }[]>`
    select r.provider, count(*)::int as n from recon_items i join recon_runs r on r.run_id = i.run_id
    where i.run_id in ${sql([...runIds, ''])} and i.class = 'matched' and i.kind = 'refund' and i.healed_from is null
    group by r.provider`;
  for (const [provider, n] of Object.entries(options.refundsSettled ?? {})) {
    const matched = matchedRefunds.find((row) => row.provider === provider)?.n ?? 0;
    if (matched < n) problems.push(`${provider}: ${matched} refund(s) matched, expected at least ${n}`);
  }
  const want = expected.map(
    (b) => `${b.provider}/${b.account}/${b.class}/${b.kind}/${b.id}/${b.healed ? 'healed' : 'unhealed'}`,
  );
  for (const key of want) if (!actual.includes(key)) problems.push(`expected break missing: ${key}`);
  for (const key of actual) if (!want.includes(key)) problems.push(`unexpected break: ${key}`);
  return {
    ok: problems.length === 0,
    problems,
    matchedRefunds: Object.fromEntries(matchedRefunds.map((row) => [row.provider, row.n])),
  };
}
