// decodeEnvelope's fast path (plainEnvelope) decides only for what envelopeSchema accepts: for any message —
// each field valid, odd or missing, unknown fields added — a value it accepts equals the schema's parse, and
// decodeEnvelope still rejects everything the schema rejects.
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
});
