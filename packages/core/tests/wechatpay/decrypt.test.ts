// AES-256-GCM resource decryption: round trips, every tampering case, nonce lengths, and known-answer
// vectors so a silent change in key, IV, AAD or tag handling fails.
import { describe, expect, it } from 'vitest';
import { ConfigError, DecryptError } from '../../src/errors.ts';
import { decryptResource } from '../../src/providers/wechatpay/decrypt.ts';
import { encryptResource, newResourceNonce } from '../../src/providers/wechatpay/encrypt.ts';
import { APIV3_KEY } from '../helpers/wechatpay-fixtures.ts';

const PLAINTEXT = '{"mchid":"1900000109","trade_state":"SUCCESS","trade_state_desc":"支付成功"}';

function flipBit(base64: string, byteIndex: number): string {
  const bytes = Buffer.from(base64, 'base64');
  const index = byteIndex < 0 ? bytes.length + byteIndex : byteIndex;
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString('base64');
}

function expectDecryptFailure(fn: () => unknown, code = 'WECHATPAY_DECRYPT_FAILED') {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DecryptError);
  expect((caught as DecryptError).code).toBe(code);
}

describe('decryptResource', () => {
  it('round-trips with associated data "transaction" and a 12-character nonce', () => {
    const resource = encryptResource(PLAINTEXT, APIV3_KEY, { associatedData: 'transaction' });

    const plaintext = decryptResource(resource, APIV3_KEY);

    expect(resource.nonce).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(plaintext.toString('utf8')).toBe(PLAINTEXT);
  });

  it('accepts the key as bytes as well as the 32-character string', () => {
    const resource = encryptResource(PLAINTEXT, APIV3_KEY, { associatedData: 'transaction' });
    expect(decryptResource(resource, Buffer.from(APIV3_KEY, 'ascii')).toString()).toBe(PLAINTEXT);
  });

  it('uses the nonce bytes whatever their length (16 characters, as in bills)', () => {
    const nonce = '0123456789abcdef';
    const resource = encryptResource(PLAINTEXT, APIV3_KEY, { nonce, associatedData: 'refund' });

    expect(decryptResource(resource, APIV3_KEY).toString()).toBe(PLAINTEXT);
    // Truncating to 12 (a common assumption) must not decrypt.
    expectDecryptFailure(() => decryptResource({ ...resource, nonce: nonce.slice(0, 12) }, APIV3_KEY));
  });

  it('treats empty, absent and null associated data alike', () => {
    const resource = encryptResource(PLAINTEXT, APIV3_KEY, { associatedData: '' });

    expect(decryptResource(resource, APIV3_KEY).toString()).toBe(PLAINTEXT);
    expect(
      decryptResource({ ciphertext: resource.ciphertext, nonce: resource.nonce }, APIV3_KEY).toString(),
    ).toBe(PLAINTEXT);
    expect(decryptResource({ ...resource, associated_data: null }, APIV3_KEY).toString()).toBe(PLAINTEXT);
    expectDecryptFailure(() => decryptResource({ ...resource, associated_data: 'transaction' }, APIV3_KEY));
  });

  it('throws on a bit flipped in the ciphertext (first and last ciphertext byte)', () => {
    const resource = encryptResource(PLAINTEXT, APIV3_KEY, { associatedData: 'transaction' });
    const ciphertextLength = Buffer.from(PLAINTEXT).length;

    expectDecryptFailure(() =>
      decryptResource({ ...resource, ciphertext: flipBit(resource.ciphertext, 0) }, APIV3_KEY),
    );
    expectDecryptFailure(() =>
      decryptResource(
        { ...resource, ciphertext: flipBit(resource.ciphertext, ciphertextLength - 1) },
        APIV3_KEY,
      ),
    );
  });

  it('throws on a flipped, truncated or missing tag', () => {
    const resource = encryptResource(PLAINTEXT, APIV3_KEY, { associatedData: 'transaction' });
    const sealed = Buffer.from(resource.ciphertext, 'base64');

    expectDecryptFailure(() =>
      decryptResource({ ...resource, ciphertext: flipBit(resource.ciphertext, -1) }, APIV3_KEY),
    );
    expectDecryptFailure(() =>
      decryptResource({ ...resource, ciphertext: flipBit(resource.ciphertext, -16) }, APIV3_KEY),
    );
    expectDecryptFailure(() =>
      decryptResource(
        { ...resource, ciphertext: sealed.subarray(0, sealed.length - 4).toString('base64') },
        APIV3_KEY,
      ),
    );
    expectDecryptFailure(() =>
      decryptResource(
        { ...resource, ciphertext: sealed.subarray(0, sealed.length - 16).toString('base64') },
        APIV3_KEY,
      ),
    );
  });

  it('throws on a wrong APIv3 key, wrong associated data or wrong nonce', () => {
    const resource = encryptResource(PLAINTEXT, APIV3_KEY, { associatedData: 'transaction' });

    expectDecryptFailure(() => decryptResource(resource, 'B7cde1ef0A7cde1ef0a7Cde1ef0A7cde'));
    expectDecryptFailure(() => decryptResource({ ...resource, associated_data: 'refund' }, APIV3_KEY));
    expectDecryptFailure(() => decryptResource({ ...resource, associated_data: '' }, APIV3_KEY));
    expectDecryptFailure(() => decryptResource({ ...resource, nonce: 'AAAAAAAAAAAA' }, APIV3_KEY));
  });

  it('rejects malformed input as DecryptError WECHATPAY_DECRYPT_INPUT', () => {
    const resource = encryptResource(PLAINTEXT, APIV3_KEY);

    expectDecryptFailure(
      () => decryptResource({ ...resource, ciphertext: 'not base64!' }, APIV3_KEY),
      'WECHATPAY_DECRYPT_INPUT',
    );
    expectDecryptFailure(
      () => decryptResource({ ...resource, ciphertext: 'AAAA' }, APIV3_KEY),
      'WECHATPAY_DECRYPT_INPUT',
    );
    expectDecryptFailure(
      () => decryptResource({ ...resource, nonce: '' }, APIV3_KEY),
      'WECHATPAY_DECRYPT_INPUT',
    );
  });

  it('rejects an APIv3 key that is not 32 bytes as ConfigError (a configuration problem, not a bad message)', () => {
    const resource = encryptResource(PLAINTEXT, APIV3_KEY);
    for (const key of ['short', `${APIV3_KEY}x`, '支付'.repeat(16)]) {
      expect(() => decryptResource(resource, key)).toThrow(ConfigError);
    }
  });

  it('makes unbiased alphanumeric nonces of the asked length', () => {
    expect(newResourceNonce()).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(newResourceNonce(16)).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(newResourceNonce()).not.toBe(newResourceNonce());
  });
});

describe('decryptResource — known answers', () => {
  // Computed once with node:crypto and cross-checked with Python's `cryptography` AESGCM (ciphertext ‖ tag).
  const KEY = 'payhooks-known-answer-apiv3-key!';
  const VECTORS = [
    {
      name: '12-character nonce, associated data "transaction"',
      nonce: 'q1w2e3r4t5y6',
      associated_data: 'transaction',
      plaintext: '{"mchid":"1900000109","out_trade_no":"订单-0001","amount":{"total":100}}',
      ciphertext:
        'CTO28ufCZuj1Ikkizur40cnRBAM6ke6kNckzgWe4YJAqNy792HlOXzE734Tlia7yjDULSQbeeBWsFbwRZ3JYmjtw6NzQYO9EhgpeziKikP555Hl0D1Hi7apn',
    },
    {
      name: '16-character nonce, empty associated data',
      nonce: '0123456789abcdef',
      associated_data: '',
      plaintext: 'bill,账单\n',
      ciphertext: 'mzBYUHtWZxISn6/DNAXeWVTIt3ZsyTF+Rr/QSw==',
    },
  ];

  it.each(VECTORS)('decrypts the fixed vector: $name', (vector) => {
    expect(decryptResource(vector, KEY).toString('utf8')).toBe(vector.plaintext);
  });

  it.each(VECTORS)('encrypts to the fixed vector: $name', (vector) => {
    const resource = encryptResource(vector.plaintext, KEY, {
      nonce: vector.nonce,
      associatedData: vector.associated_data,
    });
    expect(resource).toEqual({
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: vector.ciphertext,
      nonce: vector.nonce,
      associated_data: vector.associated_data,
    });
  });
});
