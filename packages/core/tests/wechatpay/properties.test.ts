// Property tests: on arbitrary input the security path fails only with its typed errors (never a TypeError
// or an OpenSSL error escaping), tampering never verifies, and encryption round-trips.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, DecryptError, NormalizeError, VerificationError } from '../../src/errors.ts';
import { decryptResource, type EncryptedResource } from '../../src/providers/wechatpay/decrypt.ts';
import { encryptResource } from '../../src/providers/wechatpay/encrypt.ts';
import { parseMerchants } from '../../src/providers/wechatpay/merchants.ts';
import { normalizeNotification } from '../../src/providers/wechatpay/normalize.ts';
import { notificationSchema } from '../../src/providers/wechatpay/notification.ts';
import { verifyNotification } from '../../src/providers/wechatpay/verify.ts';
import {
  APIV3_KEY,
  NOW,
  notificationBody,
  signedRequest,
  testMerchant,
  transactionResource,
} from '../helpers/wechatpay-fixtures.ts';

const merchant = testMerchant();
const BODY = Buffer.from('{"id":"EV-prop","summary":"支付成功"}');
const VALID = signedRequest(BODY);

function failsOnlyWith(fn: () => unknown, ...allowed: (abstract new (...args: never[]) => Error)[]): void {
  try {
    fn();
  } catch (error) {
    if (!allowed.some((type) => error instanceof type)) throw error;
  }
}

const base64Bytes = fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('base64'));
const headerValue = fc.oneof(
  fc.constant(undefined),
  fc.string(),
  fc.stringMatching(/^[0-9]{1,13}$/),
  base64Bytes,
  fc.constantFrom(
    'WECHATPAY/SIGNTEST/xyz',
    'WECHATPAY2-SHA256-RSA2048',
    'PUB_KEY_ID_0114232134912410000000000000',
  ),
  fc.anything() as fc.Arbitrary<never>,
);
const headerNames = fc.constantFrom(
  'wechatpay-timestamp',
  'wechatpay-nonce',
  'wechatpay-signature',
  'wechatpay-serial',
  'wechatpay-signature-type',
);

describe('properties', () => {
  it('verifyNotification throws only VerificationError/ConfigError on arbitrary headers, bodies and clocks', () => {
    fc.assert(
      fc.property(
        fc.dictionary(headerNames, headerValue),
        fc.boolean(),
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
          fc.constant(BODY),
          fc.anything(),
        ),
        fc.oneof(fc.constant(NOW), fc.date({ noInvalidDate: false })),
        fc.option(fc.oneof(fc.double(), fc.integer())),
        (changes, startFromValid, rawBody, now, tolerance) => {
          const headers = startFromValid ? { ...VALID.headers, ...changes } : changes;
          failsOnlyWith(
            () =>
              verifyNotification({
                rawBody: rawBody as Buffer,
                headers,
                verificationKeys: merchant.verificationKeys,
                now,
                toleranceSeconds: tolerance ?? undefined,
              }),
            VerificationError,
            ConfigError,
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('no single-byte change to a signed body verifies', () => {
    fc.assert(
      fc.property(fc.nat({ max: BODY.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, xor) => {
        const tampered = Buffer.from(BODY);
        tampered[index] = (tampered[index] ?? 0) ^ xor;
        expect(() =>
          verifyNotification({
            ...VALID,
            rawBody: tampered,
            verificationKeys: merchant.verificationKeys,
            now: NOW,
          }),
        ).toThrow(VerificationError);
      }),
      { numRuns: 100 },
    );
  });

  it('decryptResource throws only DecryptError/ConfigError on arbitrary resources and keys', () => {
    const field = fc.oneof(
      fc.string(),
      base64Bytes,
      fc.constant(undefined),
      fc.anything() as fc.Arbitrary<never>,
    );
    fc.assert(
      fc.property(
        fc.record({ ciphertext: field, nonce: field, associated_data: field }),
        fc.oneof(fc.constant(APIV3_KEY), fc.string(), fc.uint8Array({ minLength: 30, maxLength: 34 })),
        (resource, key) => {
          failsOnlyWith(() => decryptResource(resource as EncryptedResource, key), DecryptError, ConfigError);
        },
      ),
      { numRuns: 500 },
    );
    failsOnlyWith(() => decryptResource(null as never, APIV3_KEY), DecryptError, ConfigError);
  });

  it('any single bit flip in a sealed resource fails with DecryptError', () => {
    const sealed = encryptResource('{"trade_state":"SUCCESS"}', APIV3_KEY, { associatedData: 'transaction' });
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    fc.assert(
      fc.property(fc.nat({ max: bytes.length * 8 - 1 }), (bit) => {
        const flipped = Buffer.from(bytes);
        flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(() =>
          decryptResource({ ...sealed, ciphertext: flipped.toString('base64') }, APIV3_KEY),
        ).toThrow(DecryptError);
      }),
      { numRuns: 200 },
    );
  });

  it('encryptResource/decryptResource round-trip for any plaintext, nonce and associated data', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 500 }),
        fc.string({ minLength: 1, maxLength: 32 }),
        fc.string({ maxLength: 40 }),
        (plaintext, nonce, associatedData) => {
          const sealed = encryptResource(plaintext, APIV3_KEY, { nonce, associatedData });
          expect(decryptResource(sealed, APIV3_KEY).equals(Buffer.from(plaintext))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('normalizeNotification throws only NormalizeError on arbitrary decrypted content', () => {
    const outers = ['transaction', 'refund', 'profitsharing', 'other'].map((originalType) =>
      notificationSchema.parse(JSON.parse(notificationBody({}, { originalType }).toString())),
    );
    const content = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(
        fc.constantFrom('mchid', 'trade_state', 'refund_status', 'amount', 'order_id'),
        fc.jsonValue(),
      ),
      fc
        .record({ key: fc.constantFrom(...Object.keys(transactionResource())), value: fc.jsonValue() })
        .map(({ key, value }) => ({ ...transactionResource(), [key]: value })),
    );
    fc.assert(
      fc.property(fc.constantFrom(...outers), content, (notification, decrypted) => {
        failsOnlyWith(() => normalizeNotification(notification, decrypted, merchant), NormalizeError);
      }),
      { numRuns: 500 },
    );
  });

  it('parseMerchants throws only ConfigError on arbitrary documents', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), fc.string(), fc.record({ merchants: fc.array(fc.anything()) })),
        (document) => {
          failsOnlyWith(() => parseMerchants(document), ConfigError);
        },
      ),
      { numRuns: 300 },
    );
  });
});
