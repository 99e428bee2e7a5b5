// The run's own consistency check: after the sandbox traffic has drained, the ledger must hold every accepted
// event exactly once, no rejected one, and exactly the final state the scenario predicts. Each provider's check is
// the list of named checks below; their problems are reported in that order.
import type { Sql } from '@payhooks/core/ledger';
import type { StripeScenario } from '@payhooks/testkit/sandbox/stripe-scenario';
import type { DeliveryResult } from '@payhooks/testkit/sandbox/stripe-sender';
import type { WechatpayScenario } from '@payhooks/testkit/sandbox/wechatpay-scenario';
import type { WechatpayDeliveryResult } from '@payhooks/testkit/sandbox/wechatpay-sender';

export interface CheckReport {
  ok: boolean;
  problems: string[];
}

const report = (problems: string[]): CheckReport => ({ ok: problems.length === 0, problems });

export async function checkStripeLedger(
  sql: Sql,
  scenario: StripeScenario,
  results: readonly DeliveryResult[],
): Promise<CheckReport> {
  const { expected } = scenario;
  const paymentIds = [...expected.payments.keys(), ''];
  return report([
    ...checkStripeAnswers(results),
    ...(await checkStripeInbox(sql, scenario, results)),
    ...(await checkPayments(sql, 'stripe', expected.payments, '')),
    ...(await checkRefunds(sql, 'stripe', paymentIds, expected.refunds, '')),
    ...(await checkStripeDisputes(sql, expected.disputes)),
    ...(await checkStripeMirror(sql, expected.mirror)),
  ]);
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
  const { expected } = scenario;
  const paymentIds = [...expected.payments.keys(), ''];
  const sentIds = [...new Set(results.map((result) => result.eventId)), ''];
  return report([
    ...checkWechatpayAnswers(results),
    ...(await checkWechatpayInbox(sql, scenario, sentIds)),
    ...(await checkEvidenceEncrypted(sql, sentIds)),
    ...(await checkPayments(sql, 'wechatpay', expected.payments, 'wechatpay ')),
    ...(await checkRefunds(sql, 'wechatpay', paymentIds, expected.refunds, 'wechatpay ')),
    ...(await checkWechatpayAnomalies(sql, paymentIds, expected.anomalies)),
    ...(await checkWechatpayMirror(sql, expected)),
  ]);
}

/** Forgeries answered 400 (an oversize one 413, the size refusal both providers share), everything else 2xx. */
function checkStripeAnswers(results: readonly DeliveryResult[]): string[] {
  const problems: string[] = [];
  for (const result of results) {
    const forged = result.kind.startsWith('forged');
    const expected = result.kind === 'forged-oversize' ? 413 : 400;
    if (forged && result.status !== expected)
      problems.push(`${result.kind} ${result.eventId} answered ${result.status}, expected ${expected}`);
    if (!forged && (result.status < 200 || result.status > 299))
      problems.push(`${result.kind} ${result.eventId} answered ${result.status}`);
  }
  return problems;
}

function checkWechatpayAnswers(results: readonly WechatpayDeliveryResult[]): string[] {
  return results
    .filter((result) => result.status !== result.expectedStatus)
    .map(
      (result) =>
        `wechatpay ${result.kind} ${result.eventId} answered ${result.status}, expected ${result.expectedStatus}`,
    );
}

/** Each scenario event in the inbox once, no other sent one (a forgery) at all. */
async function checkStripeInbox(
  sql: Sql,
  scenario: StripeScenario,
  results: readonly DeliveryResult[],
): Promise<string[]> {
  const problems: string[] = [];
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
  return problems;
}

/** Each notification in the inbox once with its predicted outcome, no rejected one at all. */
async function checkWechatpayInbox(
  sql: Sql,
  scenario: WechatpayScenario,
  sentIds: readonly string[],
): Promise<string[]> {
  const problems: string[] = [];
  const expectedIds = new Set(scenario.notifications.map((n) => n.id));
  const inbox = await sql<{ event_id: string; outcome: string }[]>`
    select event_id, outcome from inbox_events where provider = 'wechatpay' and event_id in ${sql([...sentIds])}`;
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
  return problems;
}

/** Evidence is the body as received, resource still encrypted: no payer data in plaintext. */
async function checkEvidenceEncrypted(sql: Sql, sentIds: readonly string[]): Promise<string[]> {
  const plaintext = await sql`select event_id from inbox_events
    where provider = 'wechatpay' and event_id in ${sql([...sentIds])} and raw_payload like '%openid%'`;
  return plaintext.length > 0
    ? [`${plaintext.length} wechatpay inbox rows hold payer data in plaintext`]
    : [];
}

interface ExpectedPaymentState {
  status: string;
  amountMinor: bigint;
  currency: string;
  merchantOrderNo: string | null;
  /** WeChat Pay: the merchant the payment must be booked to. */
  mchid?: string;
}

/** Each predicted payment in its final state; `label` prefixes the problems ('wechatpay ' or ''). */
async function checkPayments(
  sql: Sql,
  provider: string,
  expected: ReadonlyMap<string, ExpectedPaymentState>,
  label: string,
): Promise<string[]> {
  const problems: string[] = [];
  const rows = await sql<
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
    where provider = ${provider} and provider_payment_id in ${sql([...expected.keys(), ''])}`;
  const byId = new Map(rows.map((row) => [row.provider_payment_id, row]));
  for (const [id, want] of expected) {
    const row = byId.get(id);
    if (!row) problems.push(`${label}payment ${id} missing`);
    else if (
      row.status !== want.status ||
      row.amount_minor !== want.amountMinor ||
      row.currency !== want.currency ||
      row.merchant_order_no !== want.merchantOrderNo ||
      (want.mchid !== undefined && row.account !== want.mchid)
    ) {
      problems.push(
        `${label}payment ${id} is ${row.status} ${row.amount_minor} ${row.currency}, expected ${want.status} ${want.amountMinor} ${want.currency}`,
      );
    }
  }
  return problems;
}

/** The refunds of the scenario's payments are exactly the predicted ones, each in its final state. */
async function checkRefunds(
  sql: Sql,
  provider: string,
  paymentIds: readonly string[],
  expected: ReadonlyMap<string, { status: string; amountMinor: bigint; paymentId: string }>,
  label: string,
): Promise<string[]> {
  const problems: string[] = [];
  const rows = await sql<
    { provider_refund_id: string; status: string; amount_minor: bigint; provider_payment_id: string }[]
  >`
    select provider_refund_id, status, amount_minor, provider_payment_id from refunds
    where provider = ${provider} and provider_payment_id in ${sql([...paymentIds])}`;
  const byId = new Map(rows.map((row) => [row.provider_refund_id, row]));
  for (const [id, want] of expected) {
    const row = byId.get(id);
    if (
      !row ||
      row.status !== want.status ||
      row.amount_minor !== want.amountMinor ||
      row.provider_payment_id !== want.paymentId
    ) {
      problems.push(
        `${label}refund ${id} is ${row ? `${row.status} ${row.amount_minor}` : 'missing'}, expected ${want.status} ${want.amountMinor}`,
      );
    }
  }
  if (rows.length !== expected.size)
    problems.push(`${rows.length} ${label}refunds, expected ${expected.size}`);
  return problems;
}

async function checkStripeDisputes(
  sql: Sql,
  expected: StripeScenario['expected']['disputes'],
): Promise<string[]> {
  const rows = await sql<{ provider_dispute_id: string; status: string }[]>`
    select provider_dispute_id, status from disputes
    where provider = 'stripe' and provider_dispute_id in ${sql([...expected.keys(), ''])}`;
  const byId = new Map(rows.map((row) => [row.provider_dispute_id, row.status]));
  return [...expected]
    .filter(([id, want]) => byId.get(id) !== want.status)
    .map(([id, want]) => `dispute ${id} is ${byId.get(id) ?? 'missing'}, expected ${want.status}`);
}

/** Every mirrored Stripe object in its final status. */
async function checkStripeMirror(sql: Sql, expected: ReadonlyMap<string, string>): Promise<string[]> {
  const rows = await sql<{ key: string; status: string | null }[]>`
    select 'payment_intent:' || id as key, status from stripe.payment_intents
    union all select 'charge:' || id, status from stripe.charges
    union all select 'refund:' || id, status from stripe.refunds
    union all select 'dispute:' || id, status from stripe.disputes
    union all select 'customer:' || id, status from stripe.customers
    union all select 'invoice:' || id, status from stripe.invoices
    union all select 'subscription:' || id, status from stripe.subscriptions
    union all select 'payout:' || id, status from stripe.payouts`;
  const byKey = new Map(rows.map((row) => [row.key, row.status]));
  return [...expected]
    .filter(([key, status]) => byKey.get(key) !== status)
    .map(([key, status]) => `mirror ${key} is ${byKey.get(key) ?? 'missing'}, expected ${status}`);
}

/** The anomalies against merchant_orders are exactly the predicted ones. */
async function checkWechatpayAnomalies(
  sql: Sql,
  paymentIds: readonly string[],
  expected: ReadonlyMap<string, string[]>,
): Promise<string[]> {
  const rows = await sql<{ provider_payment_id: string; kind: string }[]>`
    select provider_payment_id, kind from payment_anomalies
    where provider = 'wechatpay' and provider_payment_id in ${sql([...paymentIds])} order by kind`;
  const found = new Map<string, string[]>();
  for (const row of rows)
    found.set(row.provider_payment_id, [...(found.get(row.provider_payment_id) ?? []), row.kind]);
  const describe = (map: ReadonlyMap<string, string[]>) =>
    JSON.stringify([...map].sort(([a], [b]) => a.localeCompare(b)));
  return describe(found) === describe(expected)
    ? []
    : [`wechatpay anomalies ${describe(found)}, expected ${describe(expected)}`];
}

/**
 * The `wechatpay.*` mirror: every predicted profit-sharing movement with its status and amount, and the
 * sub-merchant (or combined order membership) of each mirrored transaction.
 */
async function checkWechatpayMirror(sql: Sql, expected: WechatpayScenario['expected']): Promise<string[]> {
  const problems: string[] = [];
  const shareIds = [...expected.profitSharing.keys(), ''];
  const shares = await sql<{ id: string; status: string; amount_minor: bigint; transaction_id: string }[]>`
    select id, status, amount_minor, transaction_id from wechatpay.profit_sharing where id in ${sql(shareIds)}`;
  const found = new Map(shares.map((row) => [row.id, row]));
  for (const [id, want] of expected.profitSharing) {
    const row = found.get(id);
    if (!row) problems.push(`wechatpay profit sharing ${id} is missing`);
    else if (row.status !== want.status || BigInt(row.amount_minor) !== want.amountMinor)
      problems.push(
        `wechatpay profit sharing ${id} is ${row.status} ${row.amount_minor}, expected ${want.status} ${want.amountMinor}`,
      );
    else if (row.transaction_id !== want.transactionId)
      problems.push(`wechatpay profit sharing ${id} names transaction ${row.transaction_id}`);
  }
  const transactionIds = [...expected.subMerchants.keys(), ''];
  const mirrored = await sql<{ id: string; sub_mchid: string | null }[]>`
    select id, sub_mchid from wechatpay.transactions where id in ${sql(transactionIds)}`;
  const subs = new Map(mirrored.map((row) => [row.id, row.sub_mchid]));
  for (const [id, sub] of expected.subMerchants) {
    if (!subs.has(id)) problems.push(`wechatpay transaction ${id} is missing from the mirror`);
    else if (subs.get(id) !== sub)
      problems.push(`wechatpay transaction ${id} has sub_mchid ${subs.get(id)}, expected ${sub}`);
  }
  return problems;
}
