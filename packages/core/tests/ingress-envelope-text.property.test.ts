// serializeIngressEnvelope writes the envelope field by field: for any field values (any Unicode, lone surrogates,
// control characters, quotes) its text is exactly JSON.stringify of the envelope, so the queue carries the same
// bytes as before and the consumer decodes the same values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../src/envelope.ts';
import { type IngressEnvelope, serializeIngressEnvelope } from '../src/ingress/envelope.ts';

const text = (maxLength: number) =>
  fc.oneof(
    fc.string({ maxLength, unit: 'binary' }),
    fc.string({
      maxLength,
      unit: fc.constantFrom('"', '\\', '\n', '\u2028', '\ud800', '\udfff', 'a', '\u0000'),
    }),
  );

describe('serializeIngressEnvelope', () => {
  it('is JSON.stringify of the envelope, byte for byte', () => {
    fc.assert(
      fc.property(
        fc.record({
          provider: fc.constantFrom('stripe' as const, 'wechatpay' as const),
          eventId: text(255),
          eventType: text(255),
          account: text(40),
          occurredAt: text(30),
          receivedAt: text(30),
          rawBody: text(400),
        }),
        (fields) => {
          const envelope: IngressEnvelope = { v: 1, ...fields };
          expect(serializeIngressEnvelope(envelope)).toBe(JSON.stringify(envelope));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('round-trips through the consumer decoder', () => {
    const envelope: IngressEnvelope = {
      v: 1,
      provider: 'stripe',
      eventId: 'evt_1',
      eventType: 'payment_intent.succeeded',
      account: '',
      occurredAt: '2026-12-02T14:00:00.000Z',
      receivedAt: '2026-12-02T14:00:01.000Z',
      rawBody: '{\n  "id": "evt_1",\n  "note": "quote \\" and 支付"\n}',
    };
    expect(decodeEnvelope(serializeIngressEnvelope(envelope))).toEqual(envelope);
  });
});
