// The run's own consistency check: after the sandbox traffic has drained, the ledger must hold every accepted
// event exactly once, no rejected one, and exactly the final state the scenario predicts.
import type { Sql } from '@payhooks/core/ledger';
import type { StripeScenario } from '@payhooks/testkit/sandbox/stripe-scenario';
import type { DeliveryResult } from '@payhooks/testkit/sandbox/stripe-sender';
import type { WechatpayScenario } from '@payhooks/testkit/sandbox/wechatpay-scenario';
import type { WechatpayDeliveryResult } from '@payhooks/testkit/sandbox/wechatpay-sender';

export interface CheckReport {
  ok: boolean;
  problems: string[];
}

export async function checkStripeLedger(
  sql: Sql,
  scenario: StripeScenario,
  results: readonly DeliveryResult[],
): Promise<CheckReport> {
  const problems: string[] = [];
  for (const result of results) {
    const forged = result.kind.startsWith('forged');
    if (forged && result.status !== 400)
      problems.push(`${result.kind} ${result.eventId} answered ${result.status}, expected 400`);
    if (!forged && (result.status < 200 || result.status > 299))
      problems.push(`${result.kind} ${result.eventId} answered ${result.status}`);
  }

  // Scoped to this run's ids: an external database may hold earlier runs and real traffic.
  const expectedIds = new Set(scenario.events.map((event) => event.id));
  const sentIds = [...new Set(results.map((result) => result.eventId))];
  const inbox = await sql<{ event_id: string }[]>`
    select event_id from inbox_events where provider = 'stripe' and event_id in ${sql(sentIds)}`;
  const stored = new Set(inbox.map((row) => row.event_id));
  if (inbox.length !== stored.size) problems.push('an event is in the inbox twice');
  for (const id of expectedIds)
    if (!stored.has(id)) problems.push(`accepted event ${id} is missing from the inbox`);
  for (const id of stored) if (!expectedIds.has(id)) problems.push(`rejected event ${id} reached the inbox`);

  const payments = await sql<
    {
      provider_payment_id: string;
      status: string;
      amount_minor: bigint;
      currency: string;
      merchant_order_no: string | null;
    }[]
  >`
    select provider_payment_id, status, amount_minor, currency, merchant_order_no from payments
    where provider = 'stripe' and provider_payment_id in ${sql([...scenario.expected.payments.keys(), ''])}`;
  const paymentsById = new Map(payments.map((row) => [row.provider_payment_id, row]));
  for (const [id, expected] of scenario.expected.payments) {
    const row = paymentsById.get(id);
    if (!row) problems.push(`payment ${id} missing`);
    else if (
      row.status !== expected.status ||
      row.amount_minor !== expected.amountMinor ||
      row.currency !== expected.currency ||
      row.merchant_order_no !== expected.merchantOrderNo
    ) {
      problems.push(
        `payment ${id} is ${row.status} ${row.amount_minor} ${row.currency}, expected ${expected.status} ${expected.amountMinor} ${expected.currency}`,
      );
    }
  }

  const refunds = await sql<
    { provider_refund_id: string; status: string; amount_minor: bigint; provider_payment_id: string }[]
  >`
    select provider_refund_id, status, amount_minor, provider_payment_id from refunds
    where provider = 'stripe' and provider_payment_id in ${sql([...scenario.expected.payments.keys(), ''])}`;
  const refundsById = new Map(refunds.map((row) => [row.provider_refund_id, row]));
  for (const [id, expected] of scenario.expected.refunds) {
    const row = refundsById.get(id);
    if (
      !row ||
      row.status !== expected.status ||
      row.amount_minor !== expected.amountMinor ||
      row.provider_payment_id !== expected.paymentId
    ) {
      problems.push(
        `refund ${id} is ${row ? `${row.status} ${row.amount_minor}` : 'missing'}, expected ${expected.status} ${expected.amountMinor}`,
      );
    }
  }
  if (refunds.length !== scenario.expected.refunds.size)
    problems.push(`${refunds.length} refunds, expected ${scenario.expected.refunds.size}`);

  const disputes = await sql<
    { provider_dispute_id: string; status: string }[]
  >`select provider_dispute_id, status from disputes
    where provider = 'stripe' and provider_dispute_id in ${sql([...scenario.expected.disputes.keys(), ''])}`;
  const disputesById = new Map(disputes.map((row) => [row.provider_dispute_id, row.status]));
  for (const [id, expected] of scenario.expected.disputes) {
    if (disputesById.get(id) !== expected.status)
      problems.push(`dispute ${id} is ${disputesById.get(id) ?? 'missing'}, expected ${expected.status}`);
  }

  const mirror = await sql<{ key: string; status: string | null }[]>`
    select 'payment_intent:' || id as key, status from stripe.payment_intents
    union all select 'charge:' || id, status from stripe.charges
    union all select 'refund:' || id, status from stripe.refunds
    union all select 'dispute:' || id, status from stripe.disputes
    union all select 'customer:' || id, status from stripe.customers
    union all select 'invoice:' || id, status from stripe.invoices
    union all select 'subscription:' || id, status from stripe.subscriptions
    union all select 'payout:' || id, status from stripe.payouts`;
  const mirrorByKey = new Map(mirror.map((row) => [row.key, row.status]));
  for (const [key, status] of scenario.expected.mirror) {
    if (mirrorByKey.get(key) !== status)
      problems.push(`mirror ${key} is ${mirrorByKey.get(key) ?? 'missing'}, expected ${status}`);
  }

  return { ok: problems.length === 0, problems };
}

/**
 * WeChat Pay: every delivery got the status it must get (204 genuine and retries, 400/401/413 forgeries and
 * probes), the inbox holds each accepted notify id once and no rejected one, payments and refunds reached the
 * predicted final states, stored-only notifications are 'stored', and the anomalies are exactly the predicted ones.
 */
export async function checkWechatpayLedger(
  sql: Sql,
  scenario: WechatpayScenario,
  results: readonly WechatpayDeliveryResult[],
): Promise<CheckReport> {
  const problems: string[] = [];
  for (const result of results) {
    if (result.status !== result.expectedStatus) {
      problems.push(
        `wechatpay ${result.kind} ${result.eventId} answered ${result.status}, expected ${result.expectedStatus}`,
      );
    }
  }

  const expectedIds = new Set(scenario.notifications.map((n) => n.id));
  const sentIds = [...new Set(results.map((result) => result.eventId)), ''];
  const inbox = await sql<{ event_id: string; outcome: string }[]>`
    select event_id, outcome from inbox_events where provider = 'wechatpay' and event_id in ${sql(sentIds)}`;
  const outcomes = new Map(inbox.map((row) => [row.event_id, row.outcome]));
  if (inbox.length !== outcomes.size) problems.push('a wechatpay notification is in the inbox twice');
  for (const id of expectedIds) {
    const outcome = outcomes.get(id);
    const want = scenario.expected.stored.has(id) ? 'stored' : 'applied';
    if (outcome === undefined)
      problems.push(`accepted wechatpay notification ${id} is missing from the inbox`);
    else if (outcome !== want)
      problems.push(`wechatpay notification ${id} has outcome ${outcome}, expected ${want}`);
  }
  for (const id of outcomes.keys())
    if (!expectedIds.has(id)) problems.push(`rejected wechatpay notification ${id} reached the inbox`);
  // Evidence is the body as received, resource still encrypted: no payer data in plaintext.
  const plaintext = await sql`select event_id from inbox_events
    where provider = 'wechatpay' and event_id in ${sql(sentIds)} and raw_payload like '%openid%'`;
  if (plaintext.length > 0)
    problems.push(`${plaintext.length} wechatpay inbox rows hold payer data in plaintext`);

  const paymentIds = [...scenario.expected.payments.keys(), ''];
  const payments = await sql<
    {
      provider_payment_id: string;
      status: string;
      amount_minor: bigint;
      currency: string;
      merchant_order_no: string | null;
      account: string;
    }[]
  >`
    select provider_payment_id, status, amount_minor, currency, merchant_order_no, account from payments
    where provider = 'wechatpay' and provider_payment_id in ${sql(paymentIds)}`;
  const paymentsById = new Map(payments.map((row) => [row.provider_payment_id, row]));
  for (const [id, expected] of scenario.expected.payments) {
    const row = paymentsById.get(id);
    if (!row) problems.push(`wechatpay payment ${id} missing`);
    else if (
      row.status !== expected.status ||
      row.amount_minor !== expected.amountMinor ||
      row.currency !== expected.currency ||
      row.merchant_order_no !== expected.merchantOrderNo ||
      row.account !== expected.mchid
    ) {
      problems.push(
        `wechatpay payment ${id} is ${row.status} ${row.amount_minor} ${row.currency}, expected ${expected.status} ${expected.amountMinor} ${expected.currency}`,
      );
    }
  }

  const refunds = await sql<
    { provider_refund_id: string; status: string; amount_minor: bigint; provider_payment_id: string }[]
  >`
    select provider_refund_id, status, amount_minor, provider_payment_id from refunds
    where provider = 'wechatpay' and provider_payment_id in ${sql(paymentIds)}`;
  const refundsById = new Map(refunds.map((row) => [row.provider_refund_id, row]));
  for (const [id, expected] of scenario.expected.refunds) {
    const row = refundsById.get(id);
    if (
      !row ||
      row.status !== expected.status ||
      row.amount_minor !== expected.amountMinor ||
      row.provider_payment_id !== expected.paymentId
    ) {
      problems.push(
        `wechatpay refund ${id} is ${row ? `${row.status} ${row.amount_minor}` : 'missing'}, expected ${expected.status} ${expected.amountMinor}`,
      );
    }
  }
  if (refunds.length !== scenario.expected.refunds.size)
    problems.push(`${refunds.length} wechatpay refunds, expected ${scenario.expected.refunds.size}`);

  const anomalies = await sql<{ provider_payment_id: string; kind: string }[]>`
    select provider_payment_id, kind from payment_anomalies
    where provider = 'wechatpay' and provider_payment_id in ${sql(paymentIds)} order by kind`;
  const found = new Map<string, string[]>();
  for (const row of anomalies)
    found.set(row.provider_payment_id, [...(found.get(row.provider_payment_id) ?? []), row.kind]);
  const describe = (map: Map<string, string[]>) =>
    JSON.stringify([...map].sort(([a], [b]) => a.localeCompare(b)));
  if (describe(found) !== describe(scenario.expected.anomalies)) {
    problems.push(
      `wechatpay anomalies ${describe(found)}, expected ${describe(scenario.expected.anomalies)}`,
    );
  }
  return { ok: problems.length === 0, problems };
}
