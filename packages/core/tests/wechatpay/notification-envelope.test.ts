// The zod-free envelope check (ingress and consumer) accepts exactly what the zod schema accepts, returns what
// it returns, and names the same failing fields: statuses of the bad-input corpora cannot move.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { notificationSchema } from '../../src/providers/wechatpay/notification.ts';
import { checkNotificationEnvelope } from '../../src/providers/wechatpay/notification-envelope.ts';
import { notificationBody, transactionResource } from '../helpers/wechatpay-fixtures.ts';

const valid = JSON.parse(notificationBody(transactionResource()).toString()) as Record<string, unknown>;
const validResource = valid.resource as Record<string, unknown>;

// Values a field could take: right and wrong types, empty, null, and date-time spellings zod accepts or refuses.
const anyValue = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    '',
    'x',
    0,
    5,
    true,
    [],
    {},
    'AEAD_AES_256_GCM',
    'AES_128_CBC',
    '2025-03-01T09:15:03+08:00',
    '2025-03-01T09:15:03.123Z',
    '2025-03-01T09:15:03Z',
    '2024-02-29T00:00:00+00:00',
    '2025-02-29T00:00:00+00:00',
    '2025-03-01 09:15:03',
    '2025-03-01T09:15+08:00',
    '2025-03-01T24:00:00+08:00',
    '2025-03-01T09:15:03+0800',
    '2025-03-01T09:15:03+24:00',
    '2025-13-01T09:15:03Z',
    '2025-03-01T09:15:03.Z',
  ),
  fc.string({ maxLength: 30 }),
);

const withField = (object: Record<string, unknown>, key: string, value: unknown) => {
  const copy: Record<string, unknown> = { ...object };
  if (value === undefined) delete copy[key];
  else copy[key] = value;
  return copy;
};

const envelope = fc
  .record({
    top: fc.array(
      fc.tuple(
        fc.constantFrom('id', 'create_time', 'resource_type', 'event_type', 'summary', 'resource', 'extra'),
        anyValue,
      ),
      { maxLength: 3 },
    ),
    inner: fc.array(
      fc.tuple(
        fc.constantFrom('original_type', 'algorithm', 'ciphertext', 'associated_data', 'nonce', 'extra'),
        anyValue,
      ),
      { maxLength: 3 },
    ),
    root: fc.constantFrom('object', 'object', 'object', 'array', 'null', 'string'),
  })
  .map(({ top, inner, root }) => {
    if (root === 'array') return [valid];
    if (root === 'null') return null;
    if (root === 'string') return 'notification';
    let resource: Record<string, unknown> = { ...validResource };
    for (const [key, value] of inner) resource = withField(resource, key, value);
    let out: Record<string, unknown> = { ...valid, resource };
    for (const [key, value] of top) out = withField(out, key, value);
    return out;
  });

describe('checkNotificationEnvelope', () => {
  it('accepts and returns exactly what notificationSchema does, naming the same fields', () => {
    fc.assert(
      fc.property(envelope, (value) => {
        const ours = checkNotificationEnvelope(value);
        const zod = notificationSchema.safeParse(value);
        expect(ours.ok).toBe(zod.success);
        if (ours.ok && zod.success) expect(ours.notification).toStrictEqual(zod.data);
        if (!ours.ok && !zod.success) {
          const zodFields = [...new Set(zod.error.issues.map((issue) => issue.path.join('.') || '(root)'))];
          expect(ours.fields).toEqual(zodFields);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts the documented envelope and drops unknown fields', () => {
    const result = checkNotificationEnvelope({ ...valid, extra: 1 });
    expect(result.ok && result.notification).toStrictEqual(notificationSchema.parse(valid));
  });
});
