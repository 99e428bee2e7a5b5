import { describe, expect, it } from 'vitest';
import { NormalizeError } from '../../src/errors.ts';
import { normalizeStripeEvent } from '../../src/providers/stripe/normalize.ts';

const options = { orderMetadataKey: 'order_id' };
const event = (type: string, object: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'evt_1N',
    object: 'event',
    type,
    created: 1_763_900_000,
    api_version: '2026-10-28.endive',
    data: { object },
    ...extra,
  });
const pi = (status: string, extra: Record<string, unknown> = {}) => ({
  id: 'pi_1',
  object: 'payment_intent',
  amount: 1999,
  currency: 'usd',
  status,
  created: 1_763_899_000,
  metadata: { order_id: 'A-1' },
  ...extra,
});

describe('normalizeStripeEvent', () => {
  it('maps a succeeded PaymentIntent to a payment and a mirror snapshot', () => {
    const result = normalizeStripeEvent(event('payment_intent.succeeded', pi('succeeded')), options);
    expect(result).toMatchObject({
      provider: 'stripe',
      eventId: 'evt_1N',
      eventType: 'payment_intent.succeeded',
      account: '',
      apiVersion: '2026-10-28.endive',
    });
    expect(result.occurredAt.toISOString()).toBe(new Date(1_763_900_000_000).toISOString());
    const payment = result.changes.find((c) => c.kind === 'payment');
    expect(payment).toMatchObject({
      providerPaymentId: 'pi_1',
      merchantOrderNo: 'A-1',
      amountMinor: 1999n,
      currency: 'USD',
      status: 'succeeded',
    });
    expect(result.changes.find((c) => c.kind === 'object')).toMatchObject({
      objectType: 'payment_intent',
      objectId: 'pi_1',
      status: 'succeeded',
    });
  });

  it('marks a declined attempt as failed and ranks it above a fresh intent', () => {
    const result = normalizeStripeEvent(
      event(
        'payment_intent.payment_failed',
        pi('requires_payment_method', { last_payment_error: { code: 'card_declined' } }),
      ),
      options,
    );
    expect(result.changes.find((c) => c.kind === 'payment')).toMatchObject({ status: 'failed' });
    expect(result.changes.find((c) => c.kind === 'object')).toMatchObject({
      orderKey: 'requires_payment_method:failed',
    });
  });

  it('routes on the object, not the event type: charge.refund.updated is a refund', () => {
    const refund = {
      id: 're_1',
      object: 'refund',
      amount: 500,
      currency: 'jpy',
      status: 'succeeded',
      charge: 'ch_1',
      payment_intent: 'pi_1',
      created: 1,
      metadata: {},
    };
    const result = normalizeStripeEvent(event('charge.refund.updated', refund), options);
    expect(result.changes.find((c) => c.kind === 'refund')).toMatchObject({
      providerRefundId: 're_1',
      providerPaymentId: 'pi_1',
      amountMinor: 500n,
      currency: 'JPY',
      status: 'succeeded',
    });
  });

  it('treats only bare charges as payments', () => {
    const charge = {
      id: 'ch_1',
      object: 'charge',
      amount: 100,
      currency: 'eur',
      status: 'succeeded',
      payment_intent: 'pi_1',
      created: 1,
      metadata: {},
    };
    expect(
      normalizeStripeEvent(event('charge.succeeded', charge), options).changes.map((c) => c.kind),
    ).toEqual(['object']);
    const bare = { ...charge, payment_intent: null, captured: false };
    expect(
      normalizeStripeEvent(event('charge.succeeded', bare), options).changes.find(
        (c) => c.kind === 'payment',
      ),
    ).toMatchObject({ status: 'authorized' });
  });

  it('keeps the Connect account', () => {
    const result = normalizeStripeEvent(
      event('payment_intent.created', pi('requires_payment_method'), { account: 'acct_1X' }),
      options,
    );
    expect(result.account).toBe('acct_1X');
    expect(result.changes.every((c) => c.account === 'acct_1X')).toBe(true);
  });

  it('mirrors customers, invoices, subscriptions, payouts and disputes', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['customer.deleted', { id: 'cus_1', object: 'customer', deleted: true }, 'deleted'],
      [
        'invoice.paid',
        { id: 'in_1', object: 'invoice', status: 'paid', currency: 'usd', amount_due: 10, amount_paid: 10 },
        'paid',
      ],
      [
        'customer.subscription.updated',
        { id: 'sub_1', object: 'subscription', status: 'past_due' },
        'past_due',
      ],
      [
        'payout.paid',
        { id: 'po_1', object: 'payout', amount: 10, currency: 'usd', status: 'paid', arrival_date: 1 },
        'paid',
      ],
      [
        'charge.dispute.closed',
        {
          id: 'dp_1',
          object: 'dispute',
          amount: 10,
          currency: 'usd',
          status: 'lost',
          reason: 'fraudulent',
          charge: 'ch_1',
          created: 1,
        },
        'lost',
      ],
    ];
    for (const [type, object, status] of cases) {
      const changes = normalizeStripeEvent(event(type, object), options).changes;
      expect(
        changes.find((c) => c.kind === 'object'),
        type,
      ).toMatchObject({ objectId: object.id, status });
    }
  });

  it('stores unknown objects without changes', () => {
    expect(
      normalizeStripeEvent(event('product.created', { id: 'prod_1', object: 'product' }), options).changes,
    ).toEqual([]);
  });

  it('fails loudly on a known object with an unexpected shape instead of writing NULLs', () => {
    const broken = [
      pi('succeeded', { amount: '19.99' }),
      pi('bogus_status'),
      { ...pi('succeeded'), currency: undefined },
      pi('succeeded', { amount: 2 ** 60 }),
    ];
    for (const object of broken) {
      expect(() => normalizeStripeEvent(event('payment_intent.succeeded', object), options)).toThrow(
        NormalizeError,
      );
    }
    expect(() => normalizeStripeEvent('{"id":"evt_1"}', options)).toThrow(NormalizeError);
    expect(() => normalizeStripeEvent('not json', options)).toThrow(NormalizeError);
  });
});

describe('normalizeStripeEvent: mode, healed snapshots, captures', () => {
  it('stores an event of the other mode without changing the ledger', () => {
    const test = event('payment_intent.succeeded', pi('succeeded'), { livemode: false });
    expect(normalizeStripeEvent(test, { ...options, expectedLivemode: true }).changes).toEqual([]);
    expect(
      normalizeStripeEvent(test, { ...options, expectedLivemode: false }).changes.length,
    ).toBeGreaterThan(0);
    expect(normalizeStripeEvent(test, options).changes.length).toBeGreaterThan(0);
  });

  it("dates a healed (synthetic) snapshot's success at the object's own time", () => {
    const healed = event('payment_intent.succeeded', pi('succeeded', { created: 1_763_800_000 }), {
      payhooks_synthetic: true,
      created: 1_763_990_000,
    });
    const payment = normalizeStripeEvent(healed, options).changes.find((c) => c.kind === 'payment');
    expect(payment).toMatchObject({
      asOf: new Date(1_763_990_000_000),
      succeededAt: new Date(1_763_800_000_000),
    });
    const live = normalizeStripeEvent(
      event('payment_intent.succeeded', pi('succeeded')),
      options,
    ).changes.find((c) => c.kind === 'payment');
    expect(live).not.toHaveProperty('succeededAt');
  });

  it('records what was captured, not what was authorised, once an intent succeeded', () => {
    const partial = event(
      'payment_intent.succeeded',
      pi('succeeded', { amount: 1999, amount_received: 1500 }),
    );
    expect(normalizeStripeEvent(partial, options).changes.find((c) => c.kind === 'payment')).toMatchObject({
      amountMinor: 1500n,
    });
    const pending = event(
      'payment_intent.processing',
      pi('processing', { amount: 1999, amount_received: 0 }),
    );
    expect(normalizeStripeEvent(pending, options).changes.find((c) => c.kind === 'payment')).toMatchObject({
      amountMinor: 1999n,
    });
  });
});
