// Test envelopes whose body is the normalized event itself (JSON, amounts as strings, times as ISO), so ledger
// tests state exactly which changes an event carries; the normalizer parses it back like a provider's would.
import type { Envelope } from '../../src/envelope.ts';
import type { EnvelopeNormalizer, LedgerChange, NormalizedEvent } from '../../src/ledger/index.ts';
import '../../src/providers/stripe/index.ts'; // registers the Stripe mirror tables

export interface TestEvent {
  eventId: string;
  provider?: 'stripe' | 'wechatpay';
  apiVersion?: string | null;
  changes: LedgerChange[];
  /** The body cannot be normalized (the normalizer throws). */
  broken?: boolean;
}

export function envelopeOf(event: TestEvent): Envelope {
  const provider = event.provider ?? 'stripe';
  return {
    v: 1,
    provider,
    eventId: event.eventId,
    eventType: 'test.event',
    account: '',
    occurredAt: '2026-11-01T00:00:00.000Z',
    receivedAt: '2026-11-01T00:00:01.000Z',
    rawBody: JSON.stringify({ ...event, provider, broken: event.broken ?? false }, (_key, value) =>
      typeof value === 'bigint' ? `${value}n` : value,
    ),
  };
}

export const testNormalizer: EnvelopeNormalizer = (envelope) => {
  const body = JSON.parse(envelope.rawBody, (key, value) => {
    if (typeof value === 'string' && /^-?\d+n$/.test(value)) return BigInt(value.slice(0, -1));
    if ((key === 'asOf' || key === 'succeededAt') && typeof value === 'string') return new Date(value);
    return value;
  }) as TestEvent & { provider: 'stripe' | 'wechatpay' };
  if (body.broken) throw new Error(`event ${body.eventId} cannot be normalized`);
  const event: NormalizedEvent = {
    provider: body.provider,
    eventId: body.eventId,
    eventType: envelope.eventType,
    account: '',
    occurredAt: new Date(envelope.occurredAt),
    apiVersion: body.apiVersion ?? null,
    changes: body.changes,
  };
  return event;
};

const T0 = Date.parse('2026-11-01T00:00:00.000Z');
export const at = (seconds: number) => new Date(T0 + seconds * 1000);

export function payment(
  id: string,
  status: 'pending' | 'processing' | 'authorized' | 'failed' | 'succeeded' | 'canceled',
  seconds: number,
  extra: {
    amountMinor?: bigint;
    currency?: string;
    merchantOrderNo?: string | null;
    provider?: 'stripe' | 'wechatpay';
    account?: string;
  } = {},
): LedgerChange {
  return {
    kind: 'payment',
    provider: extra.provider ?? 'stripe',
    account: extra.account ?? '',
    providerPaymentId: id,
    merchantOrderNo: extra.merchantOrderNo ?? null,
    amountMinor: extra.amountMinor ?? 1000n,
    currency: extra.currency ?? 'usd',
    status,
    asOf: at(seconds),
  };
}

export function refund(
  id: string,
  status: 'pending' | 'succeeded' | 'failed',
  seconds: number,
  amountMinor = 500n,
): LedgerChange {
  return {
    kind: 'refund',
    provider: 'stripe',
    account: '',
    providerRefundId: id,
    providerPaymentId: 'pi_1',
    merchantRefundNo: null,
    merchantOrderNo: null,
    amountMinor,
    currency: 'usd',
    status,
    asOf: at(seconds),
  };
}

export function dispute(
  id: string,
  status: 'needs_response' | 'under_review' | 'won' | 'lost',
  seconds: number,
): LedgerChange {
  return {
    kind: 'dispute',
    provider: 'stripe',
    account: '',
    providerDisputeId: id,
    providerPaymentId: 'pi_1',
    amountMinor: 1000n,
    currency: 'usd',
    status,
    reason: 'fraudulent',
    asOf: at(seconds),
  };
}

export function mirrored(
  objectType: string,
  id: string,
  status: string,
  seconds: number,
  snapshot: unknown = { id, status },
): LedgerChange {
  return {
    kind: 'object',
    provider: 'stripe',
    account: '',
    objectType,
    objectId: id,
    status,
    deleted: false,
    snapshot,
    asOf: at(seconds),
  };
}
