// decodeEnvelope's fast path (plainEnvelope) decides only for what envelopeSchema accepts: for any message —
// each field valid, odd or missing, unknown fields added — a value it accepts equals the schema's parse, and
// decodeEnvelope still rejects everything the schema rejects. The same holds for ingress's inline-body form
// (wire version 2), whose body is the exact text after `"body":`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, envelopeSchema, plainEnvelope } from '../src/envelope.ts';
import { EnvelopeError } from '../src/errors.ts';

const odd = fc.constantFrom<unknown>(
  undefined,
  null,
  '',
  'x',
  0,
  2,
  true,
  [],
  {},
  'a'.repeat(256),
  '2026-12-01T10:00:00',
  '2026-02-30T10:00:00Z',
  '2026-12-01T10:00:00+24:00',
);
const field = (...valid: unknown[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...valid) }, odd);
const time = field('2026-12-01T10:00:00.000Z', '2026-12-01T18:00:00+08:00', '2024-02-29T00:00:00Z');
const message = fc.record({
  v: field(1),
  provider: field('stripe', 'wechatpay'),
  eventId: field('evt_1', 'a'.repeat(255), '6f1c…'),
  eventType: field('payment_intent.succeeded', 'TRANSACTION.SUCCESS'),
  account: field('', 'acct_1', '1900000001', 'a'.repeat(255)),
  occurredAt: time,
  receivedAt: time,
  rawBody: field('{}', '{"id":"evt_1"}'),
  source: field(undefined, 'eventbridge'),
  extra: field(undefined, 'dropped'),
});

describe('decodeEnvelope fast path', () => {
  it('accepts only what envelopeSchema accepts, with the same fields', () => {
    let accepted = 0;
    fc.assert(
      fc.property(message, (raw) => {
        const text = JSON.stringify(raw);
        const json = JSON.parse(text) as unknown;
        const parsed = envelopeSchema.safeParse(json);
        const quick = plainEnvelope(json);
        if (quick) {
          accepted++;
          expect(parsed.success).toBe(true);
          expect(quick).toStrictEqual(parsed.data);
        }
        if (parsed.success) expect(decodeEnvelope(text)).toStrictEqual(parsed.data);
        else expect(() => decodeEnvelope(text)).toThrow(EnvelopeError);
      }),
      { numRuns: 4000 },
    );
    expect(accepted).toBeGreaterThan(10);
  });

  it('decodes the inline-body form exactly as the schema reads the same fields, keeping the body text', () => {
    const jsonBody = fc.constantFrom(
      '{}',
      '{"id":"evt_1"}',
      '{\n  "id": "evt_1",\n  "note": "a,\\"body\\":{} and 支付 \\u2028"\n}',
      ' [1, {"body": "}"}] ',
    );
    let accepted = 0;
    fc.assert(
      fc.property(message, jsonBody, ({ v: _v, rawBody: _raw, ...fields }, body) => {
        const head = JSON.stringify({ v: 2, ...fields });
        const text = `${head.slice(0, -1)},"body":${body}}`;
        // The message is one JSON document, whose body is the inlined JSON.
        expect((JSON.parse(text) as { body: unknown }).body).toEqual(JSON.parse(body));
        const parsed = envelopeSchema.safeParse({ ...JSON.parse(head), v: 1, rawBody: body });
        if (parsed.success) {
          accepted++;
          expect(decodeEnvelope(text)).toStrictEqual(parsed.data);
        } else expect(() => decodeEnvelope(text)).toThrow(EnvelopeError);
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(10);
  });

  it('names what is wrong with an inline-body message', () => {
    const good =
      '{"v":2,"provider":"stripe","eventId":"evt_1","eventType":"t","account":"","occurredAt":"2026-12-01T10:00:00Z","receivedAt":"2026-12-01T10:00:00Z"';
    const failure = (text: string) => {
      try {
        decodeEnvelope(text);
      } catch (error) {
        return error instanceof EnvelopeError ? `${error.code}: ${error.message}` : String(error);
      }
      return 'accepted';
    };
    expect(failure(`${good},"body":{"id":`)).toMatch(/^ENVELOPE_NOT_JSON/);
    // The body is not parsed here: it is parsed where it is applied, and fails there as a v1 rawBody that is
    // not JSON does.
    expect(decodeEnvelope(`${good},"body":{"id":1}`).rawBody).toBe('{"id":1');
    expect(failure(good.replace('"eventId":"evt_1",', '') + ',"body":{}}')).toBe(
      'ENVELOPE_INVALID: queue message is not a v2 envelope (fields: eventId)',
    );
    expect(failure(`${good}}`)).toBe(
      'ENVELOPE_INVALID: queue message is not a v2 envelope (fields: rawBody)',
    );
    expect(failure(`{"v":2,"body":{},"provider":"stripe"}`)).toMatch(/^ENVELOPE_INVALID/);
    expect(failure(`${good},"body":{"id":1}}`)).toBe('accepted');
  });
});
