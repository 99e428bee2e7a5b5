// Builds realistic Stripe event histories (payment intents, charges, refunds, disputes, customers, invoices,
// subscriptions, payouts, Connect events, unknown types) together with the final state the ledger must reach.
// Used by the sandbox behind `npm start`, by end-to-end tests and by property tests. Deterministic per seed.
import { randomBytes } from 'node:crypto';

export const SANDBOX_API_VERSION = '2026-10-28.endive';

export interface StripeEventJson {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  type: string;
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  account?: string;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
}

export interface ExpectedPayment {
  id: string;
  status: string;
  amountMinor: bigint;
  currency: string;
  merchantOrderNo: string | null;
}

export interface ExpectedState {
  payments: Map<string, ExpectedPayment>;
  refunds: Map<string, { status: string; amountMinor: bigint; paymentId: string }>;
  disputes: Map<string, { status: string; amountMinor: bigint }>;
  /** Final status of every mirrored object, keyed `type:id`. */
  mirror: Map<string, string>;
}

export interface StripeScenario {
  events: StripeEventJson[];
  expected: ExpectedState;
}

/** Small deterministic PRNG (mulberry32) so a seed reproduces a scenario exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates in place with the given generator (deterministic per seed). */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

export function stripeId(prefix: string, random: () => number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let i = 0; i < 24; i++) id += alphabet[Math.floor(random() * alphabet.length)];
  return `${prefix}_${id}`;
}

export class StripeHistory {
  readonly events: StripeEventJson[] = [];
  readonly expected: ExpectedState = {
    payments: new Map(),
    refunds: new Map(),
    disputes: new Map(),
    mirror: new Map(),
  };
  constructor(private readonly random: () => number) {}

  emit(type: string, created: number, object: Record<string, unknown>, account?: string): StripeEventJson {
    const event: StripeEventJson = {
      id: stripeId('evt', this.random),
      object: 'event',
      api_version: SANDBOX_API_VERSION,
      created,
      type,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      ...(account ? { account } : {}),
      data: { object: structuredClone(object) },
    };
    this.events.push(event);
    const status =
      object.object === 'customer'
        ? object.deleted
          ? 'deleted'
          : 'active'
        : (object.status as string | undefined);
    if (status !== undefined) this.expected.mirror.set(`${object.object}:${object.id}`, status);
    return event;
  }
}

export interface ScenarioOptions {
  seed: number;
  payments: number;
  account?: string;
  orderMetadataKey?: string;
  startTime?: number;
}

/** One customer paying one order, with the events Stripe sends for it; some refund, dispute or fail. */
function paymentFlow(
  h: StripeHistory,
  random: () => number,
  t: number,
  index: number,
  options: ScenarioOptions,
): void {
  const account = options.account;
  const currencies = ['usd', 'eur', 'jpy', 'gbp', 'kwd'];
  const currency = currencies[index % currencies.length]!;
  const amount =
    currency === 'jpy' ? 500 + Math.floor(random() * 20_000) : 100 + Math.floor(random() * 99_900);
  const orderNo = `ORD-${options.seed}-${index}`;
  const metadata = { [options.orderMetadataKey ?? 'order_id']: orderNo };
  const customer = {
    id: stripeId('cus', random),
    object: 'customer',
    email: `payer${index}@example.test`,
    created: t,
    livemode: false,
  };
  h.emit('customer.created', t, customer, account);

  const pi: Record<string, unknown> = {
    id: stripeId('pi', random),
    object: 'payment_intent',
    amount,
    amount_received: 0,
    currency,
    status: 'requires_payment_method',
    created: t,
    customer: customer.id,
    metadata,
    latest_charge: null,
    last_payment_error: null,
    livemode: false,
  };
  h.emit('payment_intent.created', t, pi, account);
  const roll = random();
  const payment: ExpectedPayment = {
    id: pi.id as string,
    status: 'pending',
    amountMinor: BigInt(amount),
    currency: currency.toUpperCase(),
    merchantOrderNo: orderNo,
  };
  h.expected.payments.set(payment.id, payment);

  if (roll < 0.1) {
    // Card declined, then the customer gives up and the intent is canceled.
    h.emit(
      'payment_intent.payment_failed',
      t + 1,
      { ...pi, last_payment_error: { code: 'card_declined' } },
      account,
    );
    h.emit('payment_intent.canceled', t + 3, { ...pi, status: 'canceled' }, account);
    payment.status = 'canceled';
    return;
  }
  if (roll < 0.2) {
    h.emit('payment_intent.requires_action', t + 1, { ...pi, status: 'requires_action' }, account);
  }
  const charge = {
    id: stripeId('ch', random),
    object: 'charge',
    amount,
    amount_captured: amount,
    amount_refunded: 0,
    captured: true,
    currency,
    status: 'succeeded',
    payment_intent: pi.id,
    customer: customer.id,
    created: t + 2,
    metadata,
    refunded: false,
    livemode: false,
    balance_transaction: stripeId('txn', random),
  };
  // Stripe sends these within the same second: the tie is resolved by status rank.
  h.emit(
    'payment_intent.succeeded',
    t + 2,
    { ...pi, status: 'succeeded', amount_received: amount, latest_charge: charge.id },
    account,
  );
  h.emit('charge.succeeded', t + 2, charge, account);
  payment.status = 'succeeded';

  if (roll > 0.75) {
    const refundAmount = roll > 0.9 ? amount : Math.max(1, Math.floor(amount / 2));
    const refund = {
      id: stripeId('re', random),
      object: 'refund',
      amount: refundAmount,
      currency,
      status: 'pending',
      charge: charge.id,
      payment_intent: pi.id,
      created: t + 5,
      metadata: {},
    };
    h.emit('refund.created', t + 5, refund, account);
    h.emit('refund.updated', t + 6, { ...refund, status: 'succeeded' }, account);
    h.emit('charge.refund.updated', t + 6, { ...refund, status: 'succeeded' }, account);
    h.emit(
      'charge.refunded',
      t + 6,
      { ...charge, amount_refunded: refundAmount, refunded: refundAmount === amount },
      account,
    );
    h.expected.refunds.set(refund.id, {
      status: 'succeeded',
      amountMinor: BigInt(refundAmount),
      paymentId: pi.id as string,
    });
  } else if (roll > 0.7) {
    const dispute = {
      id: stripeId('dp', random),
      object: 'dispute',
      amount,
      currency,
      status: 'needs_response',
      reason: 'fraudulent',
      charge: charge.id,
      payment_intent: pi.id,
      created: t + 8,
    };
    h.emit('charge.dispute.created', t + 8, dispute, account);
    h.emit('charge.dispute.funds_withdrawn', t + 8, dispute, account);
    h.emit('charge.dispute.updated', t + 9, { ...dispute, status: 'under_review' }, account);
    const final = roll > 0.72 ? 'won' : 'lost';
    h.emit('charge.dispute.closed', t + 20, { ...dispute, status: final }, account);
    h.expected.disputes.set(dispute.id, { status: final, amountMinor: BigInt(amount) });
  }
}

/** A subscription's first invoice: several events share one second (the classic ordering trap). */
function subscriptionFlow(h: StripeHistory, random: () => number, t: number, account?: string): void {
  const customer = {
    id: stripeId('cus', random),
    object: 'customer',
    email: 'subscriber@example.test',
    created: t,
  };
  h.emit('customer.created', t, customer, account);
  const sub = {
    id: stripeId('sub', random),
    object: 'subscription',
    status: 'incomplete',
    customer: customer.id,
    created: t,
  };
  h.emit('customer.subscription.created', t, sub, account);
  const invoice = {
    id: stripeId('in', random),
    object: 'invoice',
    status: 'draft',
    currency: 'usd',
    amount_due: 1500,
    amount_paid: 0,
    customer: customer.id,
    subscription: sub.id,
    created: t,
  };
  h.emit('invoice.created', t, invoice, account);
  h.emit('invoice.finalized', t + 1, { ...invoice, status: 'open' }, account);
  h.emit('invoice.updated', t + 1, { ...invoice, status: 'paid', amount_paid: 1500 }, account);
  h.emit('invoice.paid', t + 1, { ...invoice, status: 'paid', amount_paid: 1500 }, account);
  h.emit('invoice.payment_succeeded', t + 1, { ...invoice, status: 'paid', amount_paid: 1500 }, account);
  h.emit('customer.subscription.updated', t + 1, { ...sub, status: 'active' }, account);
  h.emit('customer.updated', t + 3, { ...customer, email: 'subscriber+new@example.test' }, account);
  if (random() < 0.5) {
    h.emit('customer.subscription.deleted', t + 30, { ...sub, status: 'canceled' }, account);
  }
}

export function buildStripeScenario(options: ScenarioOptions): StripeScenario {
  const random = prng(options.seed);
  const h = new StripeHistory(random);
  const start = options.startTime ?? Math.floor(Date.now() / 1000) - 3600;
  for (let i = 0; i < options.payments; i++) paymentFlow(h, random, start + i * 7, i, options);
  for (let i = 0; i < Math.max(1, Math.floor(options.payments / 10)); i++)
    subscriptionFlow(h, random, start + i * 11, options.account);
  // A payout, an object we do not project, and event types nobody subscribed to on purpose.
  const payout = {
    id: stripeId('po', random),
    object: 'payout',
    amount: 12_345,
    currency: 'usd',
    status: 'in_transit',
    arrival_date: start + 86_400,
  };
  h.emit('payout.created', start + 60, payout, options.account);
  h.emit('payout.paid', start + 120, { ...payout, status: 'paid' }, options.account);
  h.emit(
    'product.created',
    start + 5,
    { id: stripeId('prod', random), object: 'product', name: 'Widget' },
    options.account,
  );
  h.emit(
    'radar.early_fraud_warning.created',
    start + 9,
    { id: stripeId('issfr', random), object: 'radar.early_fraud_warning' },
    options.account,
  );
  return { events: h.events, expected: h.expected };
}

export function randomWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}
