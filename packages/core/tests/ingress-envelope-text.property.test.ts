// serializeIngressEnvelope writes the envelope field by field in the inline-body form (wire version 2): for any
// field values (any Unicode, lone surrogates, control characters, quotes) and any JSON body, in any layout, the
// text is one JSON document with those fields and that body, and the consumer's decoder gives back exactly the
// envelope, the body's text included.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../src/envelope.ts';
import { type IngressEnvelope, serializeIngressEnvelope } from '../src/ingress/envelope.ts';

const text = (maxLength: number) =>
  fc.oneof(
    fc.string({ maxLength, unit: 'binary' }),
    fc.string({
      maxLength,
      unit: fc.constantFrom('"', '\\', '\n', '\u2028', '\ud800', '\udfff', 'a', '\u0000', ',"body":'),
    }),
  );

// A JSON body as a provider might lay it out: compact, pretty-printed, padded with whitespace.
const jsonBody = fc
  .tuple(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(undefined, 2, '\t'),
    fc.constantFrom('', ' ', '\n', '\r\n'),
  )
  .map(([value, indent, pad]) => `${pad}${JSON.stringify(value, null, indent)}${pad}`);

const fields = fc.record({
  provider: fc.constantFrom('stripe' as const, 'wechatpay' as const),
  eventId: text(255),
  eventType: text(255),
  account: text(40),
  occurredAt: text(30),
  receivedAt: text(30),
});

describe('serializeIngressEnvelope', () => {
  it('is one JSON document: the fields, then the body inline', () => {
    fc.assert(
      fc.property(fields, jsonBody, (values, rawBody) => {
        const message = serializeIngressEnvelope({ v: 1, ...values, rawBody });
        expect(JSON.parse(message)).toStrictEqual({ v: 2, ...values, body: JSON.parse(rawBody) });
        expect(message.endsWith(`"body":${rawBody}}`)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips through the consumer decoder with the body text exactly as received', () => {
    fc.assert(
      fc.property(
        fc.record({
          provider: fc.constantFrom('stripe' as const, 'wechatpay' as const),
          eventId: fc.string({ minLength: 1, maxLength: 255, unit: 'grapheme' }),
          eventType: fc.string({
            minLength: 1,
            maxLength: 255,
            unit: fc.constantFrom('a', '"', ',"body":', '支'),
          }),
          account: fc.constantFrom('', 'acct_1', '1900000001'),
          occurredAt: fc.constantFrom('2026-12-02T14:00:00.000Z', '2026-12-02T22:00:00+08:00'),
          receivedAt: fc.constantFrom('2026-12-02T14:00:01.000Z'),
        }),
        jsonBody.filter((body) => body.length >= 2),
        (values, rawBody) => {
          const envelope: IngressEnvelope = { v: 1, ...values, rawBody };
          expect(decodeEnvelope(serializeIngressEnvelope(envelope))).toStrictEqual(envelope);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('round-trips a pretty-printed body with quotes, escapes and CJK', () => {
    const envelope: IngressEnvelope = {
      v: 1,
      provider: 'stripe',
      eventId: 'evt_1',
      eventType: 'payment_intent.succeeded',
      account: '',
      occurredAt: '2026-12-02T14:00:00.000Z',
      receivedAt: '2026-12-02T14:00:01.000Z',
      rawBody: '{\n  "id": "evt_1",\n  "note": "quote \\" and 支付, \\"body\\":{}"\n}',
    };
    expect(decodeEnvelope(serializeIngressEnvelope(envelope))).toStrictEqual(envelope);
  });
});
