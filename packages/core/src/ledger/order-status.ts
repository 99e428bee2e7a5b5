// The order-status query behind GET /orders/{provider}/{account}/{merchantOrderNo}: what the merchant's apps ask
// ("is order X paid, with the right amount?"). One statement, each part on an index: merchant_orders by its key,
// payments by (provider, merchant_order_no), refunds, disputes and anomalies by (provider, provider_payment_id).
// Amounts leave the database as text and become bigint here: money never passes through a JS number.
import { PayhooksError } from '../errors.ts';
import type { Sql } from './db.ts';
import { ORDER_ACCOUNT_MATCH, STRIPE_PLATFORM_ACCOUNT } from './merchant-orders.ts';

/** A lookup the ledger cannot answer as asked (code ORDER_UNKNOWN_PROVIDER, ORDER_BAD_KEY). */
export class OrderStatusError extends PayhooksError {}

export const ORDER_PROVIDERS = ['stripe', 'wechatpay'] as const;
export type OrderProvider = (typeof ORDER_PROVIDERS)[number];

export interface OrderKey {
  provider: string;
  /** Stripe: 'platform', acct_… or a configured account id; WeChat Pay: the mchid. */
  account: string;
  merchantOrderNo: string;
}

/**
 * `unpaid`: an order with no payment; `pending`: a payment in progress; `failed`: every attempt failed or was
 * canceled; `partially_paid` / `paid` / `overpaid`: succeeded payments in the order's currency against its amount;
 * `partially_refunded` / `refunded`: succeeded refunds; `disputed`: a dispute open or lost.
 */
export type OrderState =
  | 'unpaid'
  | 'pending'
  | 'failed'
  | 'partially_paid'
  | 'paid'
  | 'overpaid'
  | 'partially_refunded'
  | 'refunded'
  | 'disputed';

export interface OrderPayment {
  providerPaymentId: string;
  status: string;
  amountMinor: bigint;
  currency: string;
  succeededAt: Date | null;
  updatedAt: Date;
}

export interface OrderRefund {
  providerRefundId: string;
  providerPaymentId: string;
  status: string;
  amountMinor: bigint;
  currency: string;
  succeededAt: Date | null;
  updatedAt: Date;
}

export interface OrderDispute {
  providerDisputeId: string;
  providerPaymentId: string;
  status: string;
  reason: string | null;
  amountMinor: bigint;
  currency: string;
  updatedAt: Date;
}

export interface OrderAnomaly {
  kind: 'amount_mismatch' | 'currency_mismatch';
  providerPaymentId: string;
  expectedAmountMinor: bigint;
  expectedCurrency: string;
  actualAmountMinor: bigint;
  actualCurrency: string;
  eventId: string;
  detectedAt: Date;
}

export interface OrderStatus {
  provider: OrderProvider;
  account: string;
  merchantOrderNo: string;
  status: OrderState;
  /** The order's currency (merchant_orders), else that of its first payment; null with neither. */
  currency: string | null;
  /** What merchant_orders says the order should be paid; null when the merchant recorded no order. */
  amountExpectedMinor: bigint | null;
  /** Succeeded payments in `currency`. */
  amountPaidMinor: bigint;
  /** Succeeded refunds in `currency`. */
  amountRefundedMinor: bigint;
  payments: OrderPayment[];
  refunds: OrderRefund[];
  disputes: OrderDispute[];
  /** Anomalies whose expectation is still the order's: a corrected order closes them. */
  openAnomalies: OrderAnomaly[];
  /** Provider time of the newest snapshot among the payments, refunds and disputes; null without any. */
  lastEventAt: Date | null;
}

const MAX_KEY_LENGTH = 255;
const PAYMENT_IN_PROGRESS = new Set(['pending', 'requires_action', 'processing', 'authorized']);
/** Disputes that end in the merchant's favour (or never became one); any other status means money at stake. */
const DISPUTE_SETTLED_FOR_MERCHANT = new Set(['won', 'warning_closed', 'prevented']);

export function isOrderProvider(provider: string): provider is OrderProvider {
  return (ORDER_PROVIDERS as readonly string[]).includes(provider);
}

/** Refuses what the ledger cannot look up, with one line naming the part (the API answers 400). */
export function checkOrderKey(key: OrderKey): asserts key is OrderKey & { provider: OrderProvider } {
  if (!isOrderProvider(key.provider))
    throw new OrderStatusError(
      'ORDER_UNKNOWN_PROVIDER',
      `provider must be ${ORDER_PROVIDERS.join(' or ')}, got "${key.provider.slice(0, 40)}"`,
    );
  for (const [name, value] of [
    ['account', key.account],
    ['merchantOrderNo', key.merchantOrderNo],
  ] as const) {
    if (value.length === 0 || value.length > MAX_KEY_LENGTH)
      throw new OrderStatusError('ORDER_BAD_KEY', `${name} must be 1 to ${MAX_KEY_LENGTH} characters`);
  }
}

/**
 * The account payments carry for an order of `account`: a Stripe platform order's payments carry none ('');
 * every other order's payments carry the account itself (acct_…, a configured id, the WeChat Pay mchid).
 */
function paymentAccount(key: OrderKey): string {
  return key.provider === 'stripe' && key.account === STRIPE_PLATFORM_ACCOUNT ? '' : key.account;
}

/**
 * The statement as a fragment, so the bench can EXPLAIN exactly what the API runs. Each aggregate is a JSON
 * array (empty when nothing matched); amounts are cast to text inside it.
 */
export function orderStatusStatement(sql: Sql, key: OrderKey) {
  const { provider, account, merchantOrderNo } = key;
  // The order rule of the consumer's anomaly check (ORDER_ACCOUNT_MATCH), with the payment's side fixed.
  const orderMatch = sql.unsafe(ORDER_ACCOUNT_MATCH.replaceAll('i.', 'k.'));
  return sql`
    with k as (
      select ${provider}::text as provider, ${paymentAccount(key)}::text as account,
        ${merchantOrderNo}::text as merchant_order_no
    ), o as (
      select o.amount_minor, btrim(o.currency) as currency
      from merchant_orders o, k
      where o.provider = k.provider and o.merchant_order_no = k.merchant_order_no
        and o.account in (${account}::text, '') and ${orderMatch}
      order by o.account desc limit 1
    ), p as (
      select p.provider_payment_id, p.status, p.amount_minor, btrim(p.currency) as currency, p.first_seen_at,
        p.succeeded_at, p.updated_at
      from payments p, k
      where p.provider = k.provider and p.merchant_order_no = k.merchant_order_no and p.account = k.account
    ), r as (
      select r.provider_refund_id, r.provider_payment_id, r.status, r.amount_minor, btrim(r.currency) as currency,
        r.first_seen_at, r.succeeded_at, r.updated_at
      from p join refunds r on r.provider = ${provider} and r.provider_payment_id = p.provider_payment_id
    ), d as (
      select d.provider_dispute_id, d.provider_payment_id, d.status, d.reason, d.amount_minor,
        btrim(d.currency) as currency, d.first_seen_at, d.updated_at
      from p join disputes d on d.provider = ${provider} and d.provider_payment_id = p.provider_payment_id
    ), a as (
      select a.kind, a.provider_payment_id, a.expected_amount_minor, btrim(a.expected_currency) as expected_currency,
        a.actual_amount_minor, btrim(a.actual_currency) as actual_currency, a.event_id, a.detected_at
      from p join payment_anomalies a on a.provider = ${provider} and a.provider_payment_id = p.provider_payment_id
      join o on a.expected_amount_minor = o.amount_minor and upper(btrim(a.expected_currency)) = upper(o.currency)
    )
    select
      (select json_build_object('amountMinor', amount_minor::text, 'currency', currency) from o) as "order",
      (select coalesce(json_agg(json_build_object('providerPaymentId', provider_payment_id, 'status', status,
          'amountMinor', amount_minor::text, 'currency', currency, 'succeededAt', succeeded_at,
          'updatedAt', updated_at) order by first_seen_at, provider_payment_id), '[]') from p) as payments,
      (select coalesce(json_agg(json_build_object('providerRefundId', provider_refund_id,
          'providerPaymentId', provider_payment_id, 'status', status, 'amountMinor', amount_minor::text,
          'currency', currency, 'succeededAt', succeeded_at, 'updatedAt', updated_at)
          order by first_seen_at, provider_refund_id), '[]') from r) as refunds,
      (select coalesce(json_agg(json_build_object('providerDisputeId', provider_dispute_id,
          'providerPaymentId', provider_payment_id, 'status', status, 'reason', reason,
          'amountMinor', amount_minor::text, 'currency', currency, 'updatedAt', updated_at)
          order by first_seen_at, provider_dispute_id), '[]') from d) as disputes,
      (select coalesce(json_agg(json_build_object('kind', kind, 'providerPaymentId', provider_payment_id,
          'expectedAmountMinor', expected_amount_minor::text, 'expectedCurrency', expected_currency,
          'actualAmountMinor', actual_amount_minor::text, 'actualCurrency', actual_currency,
          'eventId', event_id, 'detectedAt', detected_at) order by detected_at, kind), '[]') from a) as anomalies`;
}

interface OrderRow {
  order: { amountMinor: string; currency: string } | null;
  payments: Record<string, string | null>[];
  refunds: Record<string, string | null>[];
  disputes: Record<string, string | null>[];
  anomalies: Record<string, string | null>[];
}

const date = (value: string | null | undefined) => (value ? new Date(value) : null);
const text = (value: string | null | undefined) => value ?? '';

/** The order's status, or undefined when the ledger knows neither the order nor a payment for it. */
export async function getOrderStatus(sql: Sql, key: OrderKey): Promise<OrderStatus | undefined> {
  checkOrderKey(key);
  const [row] = (await orderStatusStatement(sql, key)) as unknown as OrderRow[];
  if (!row || (!row.order && row.payments.length === 0)) return undefined;
  const payments: OrderPayment[] = row.payments.map((p) => ({
    providerPaymentId: text(p.providerPaymentId),
    status: text(p.status),
    amountMinor: BigInt(text(p.amountMinor)),
    currency: text(p.currency).toUpperCase(),
    succeededAt: date(p.succeededAt),
    updatedAt: new Date(text(p.updatedAt)),
  }));
  const refunds: OrderRefund[] = row.refunds.map((r) => ({
    providerRefundId: text(r.providerRefundId),
    providerPaymentId: text(r.providerPaymentId),
    status: text(r.status),
    amountMinor: BigInt(text(r.amountMinor)),
    currency: text(r.currency).toUpperCase(),
    succeededAt: date(r.succeededAt),
    updatedAt: new Date(text(r.updatedAt)),
  }));
  const disputes: OrderDispute[] = row.disputes.map((d) => ({
    providerDisputeId: text(d.providerDisputeId),
    providerPaymentId: text(d.providerPaymentId),
    status: text(d.status),
    reason: d.reason ?? null,
    amountMinor: BigInt(text(d.amountMinor)),
    currency: text(d.currency).toUpperCase(),
    updatedAt: new Date(text(d.updatedAt)),
  }));
  const openAnomalies: OrderAnomaly[] = row.anomalies.map((a) => ({
    kind: text(a.kind) as OrderAnomaly['kind'],
    providerPaymentId: text(a.providerPaymentId),
    expectedAmountMinor: BigInt(text(a.expectedAmountMinor)),
    expectedCurrency: text(a.expectedCurrency).toUpperCase(),
    actualAmountMinor: BigInt(text(a.actualAmountMinor)),
    actualCurrency: text(a.actualCurrency).toUpperCase(),
    eventId: text(a.eventId),
    detectedAt: new Date(text(a.detectedAt)),
  }));
  const expected = row.order ? BigInt(row.order.amountMinor) : null;
  const currency = row.order?.currency.toUpperCase() ?? payments[0]?.currency ?? null;
  const sum = (items: readonly { amountMinor: bigint; currency: string; status: string }[]) =>
    items
      .filter((item) => item.status === 'succeeded' && item.currency === currency)
      .reduce((total, item) => total + item.amountMinor, 0n);
  const paid = sum(payments);
  const refunded = sum(refunds);
  const times = [...payments, ...refunds, ...disputes].map((item) => item.updatedAt.getTime());
  return {
    provider: key.provider,
    account: key.account,
    merchantOrderNo: key.merchantOrderNo,
    status: orderState({ expected, paid, refunded, payments, disputes }),
    currency,
    amountExpectedMinor: expected,
    amountPaidMinor: paid,
    amountRefundedMinor: refunded,
    payments,
    refunds,
    disputes,
    openAnomalies,
    lastEventAt: times.length > 0 ? new Date(Math.max(...times)) : null,
  };
}

/** The one word an app branches on; the precedence is money at stake first (a dispute), then money returned. */
export function orderState(facts: {
  expected: bigint | null;
  paid: bigint;
  refunded: bigint;
  payments: readonly { status: string }[];
  disputes: readonly { status: string }[];
}): OrderState {
  const { expected, paid, refunded, payments, disputes } = facts;
  if (disputes.some((d) => !DISPUTE_SETTLED_FOR_MERCHANT.has(d.status))) return 'disputed';
  if (paid > 0n && refunded >= paid) return 'refunded';
  if (refunded > 0n) return 'partially_refunded';
  if (paid > 0n) {
    if (expected === null || paid === expected) return 'paid';
    return paid < expected ? 'partially_paid' : 'overpaid';
  }
  if (payments.some((p) => PAYMENT_IN_PROGRESS.has(p.status))) return 'pending';
  if (payments.length > 0) return 'failed';
  return 'unpaid';
}
