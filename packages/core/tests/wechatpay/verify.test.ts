// Notification/response signature verification: both key modes, rotation, every rejection path, and a
// known-answer vector that pins the signed-message format independently of our own signer.
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, VerificationError } from '../../src/errors.ts';
import {
  lowerCaseHeaders,
  verifyNotification,
  verifyResponse,
} from '../../src/providers/wechatpay/verify.ts';
import { selfSignedCertificatePem } from '../helpers/wechatpay-certs.ts';
import {
  NOW,
  PLATFORM_SERIAL,
  PUB_KEY_ID,
  publicPem,
  rsaPair,
  signedRequest,
  testKeys,
  testMerchant,
} from '../helpers/wechatpay-fixtures.ts';

const BODY = Buffer.from(
  '{"id":"EV-1","create_time":"2025-03-01T09:15:03+08:00","summary":"支付成功","resource":{}}',
  'utf8',
);

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function expectRejected(fn: () => unknown, code: string, status: number): VerificationError {
  const error = catchError(fn);
  expect(error).toBeInstanceOf(VerificationError);
  expect((error as VerificationError).code).toBe(code);
  expect((error as VerificationError).status).toBe(status);
  return error as VerificationError;
}

/** Independent of sign.ts: the message is assembled here by hand. */
function handSigned(
  body: Buffer,
  privateKey: crypto.KeyObject,
  serial: string,
  timestamp: string,
  nonce: string,
) {
  const message = Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`), body, Buffer.from('\n')]);
  return {
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': nonce,
    'wechatpay-signature': crypto.sign('RSA-SHA256', message, privateKey).toString('base64'),
    'wechatpay-serial': serial,
    'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
  } as Record<string, string | undefined>;
}

const NOW_SECONDS = String(NOW.getTime() / 1000);

describe('verifyNotification — accepted', () => {
  it('accepts a WeChat Pay public key (PUB_KEY_ID_) signature', () => {
    const merchant = testMerchant();
    const headers = handSigned(BODY, testKeys().wechatpay.privateKey, PUB_KEY_ID, NOW_SECONDS, 'N0NCE1');

    const verified = verifyNotification({
      rawBody: BODY,
      headers,
      verificationKeys: merchant.verificationKeys,
      now: NOW,
    });

    expect(verified).toEqual({ serial: PUB_KEY_ID, timestamp: Number(NOW_SECONDS), nonce: 'N0NCE1' });
  });

  it('accepts a platform-certificate signature looked up by hex serial, in any case', () => {
    const merchant = testMerchant();
    const lower = PLATFORM_SERIAL.toLowerCase();
    const headers = handSigned(BODY, testKeys().platform.privateKey, lower, NOW_SECONDS, 'N0NCE2');

    const verified = verifyNotification({
      rawBody: BODY,
      headers,
      verificationKeys: merchant.verificationKeys,
      now: NOW,
    });

    expect(verified.serial).toBe(PLATFORM_SERIAL);
  });

  it('accepts both keys during a rotation overlap and reports which one verified', () => {
    const next = rsaPair();
    const merchant = testMerchant({
      verificationKeys: {
        PUB_KEY_ID_0114232134912410000000000000: publicPem(testKeys().wechatpay.publicKey),
        PUB_KEY_ID_0114232134912410000000000001: publicPem(next.publicKey),
      },
    });
    const keys = merchant.verificationKeys;

    const old = signedRequest(BODY, { serial: PUB_KEY_ID });
    const fresh = signedRequest(BODY, {
      serial: 'PUB_KEY_ID_0114232134912410000000000001',
      privateKey: next.privateKey,
    });

    expect(verifyNotification({ ...old, verificationKeys: keys, now: NOW }).serial).toBe(PUB_KEY_ID);
    expect(verifyNotification({ ...fresh, verificationKeys: keys, now: NOW }).serial).toBe(
      'PUB_KEY_ID_0114232134912410000000000001',
    );
  });

  it('verifies over raw bytes containing non-ASCII UTF-8 and bytes that are not UTF-8 at all', () => {
    const merchant = testMerchant();
    const chinese = Buffer.from('{"summary":"支付成功，商品：测试商品🧧"}', 'utf8');
    const notUtf8 = Buffer.concat([
      Buffer.from('{"x":"'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}'),
    ]);

    for (const body of [chinese, notUtf8]) {
      const request = signedRequest(body);
      expect(
        verifyNotification({ ...request, verificationKeys: merchant.verificationKeys, now: NOW }).serial,
      ).toBe(PUB_KEY_ID);
    }
  });

  it('accepts a missing signature-type header (it is optional) and timestamps exactly at the tolerance edge', () => {
    const merchant = testMerchant();
    for (const offset of [-300, 300]) {
      const ts = String(Number(NOW_SECONDS) + offset);
      const headers = handSigned(BODY, testKeys().wechatpay.privateKey, PUB_KEY_ID, ts, 'EDGE');
      delete headers['wechatpay-signature-type'];

      expect(
        verifyNotification({ rawBody: BODY, headers, verificationKeys: merchant.verificationKeys, now: NOW })
          .timestamp,
      ).toBe(Number(ts));
    }
  });

  it('known answer: a fixed public key, body and signature verify (pins the message format)', () => {
    // Generated once with node:crypto over "1740791703\nKATNONCE…\n<body>\n"; only the public key is kept.
    const publicKey = crypto.createPublicKey(
      [
        '-----BEGIN PUBLIC KEY-----',
        'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsEKGiAbnVmZWkMOmflCb',
        'vgiyVvqXNjOev8+cWhNcUG5Um1gQ+oMVLIiZuV9sBzasl4mvIa3B7QdR71QVYK47',
        'uBiQopp2MzJVj3jrZZS8l1r6M1ytnzszBoU7Y+DL/Sg37ZAAwNrc5MLTse310d6F',
        'z/XmSU+uYONVThNs0gpg8k+4uugGUinvJlYvziPRbF1R738J1/rmKtgs8XknbC6h',
        '08ylLRbfyMPcu6KHvocskWwEHfZW4y4TfDdz08bOf1a+0F/u6Btijf4GAELKfiQE',
        '6obfi7vwfq/65CZ22ZHtZviATzF714l0jEYShjn5GSwQU/nB4KneSfm1aDU7S8yv',
        '7QIDAQAB',
        '-----END PUBLIC KEY-----',
      ].join('\n'),
    );
    const headers = {
      'wechatpay-timestamp': '1740791703',
      'wechatpay-nonce': 'KATNONCE0123456789ABCDEF01234567',
      'wechatpay-serial': PUB_KEY_ID,
      'wechatpay-signature':
        'f9RNb1REUJsKJrbuA7SiFWZ45DjApNtJgx5/tIxIbble9XXd36C0ClhCC011cALzEzYbtiEYfqPN7SVA+vRViyheKzHXvhOmsB6OlB2s' +
        'zgIy/pc4MhfUpiFDPNIck5C2LKzmstZQ5BDkPeWkhiyioM53Hsgvo21mPl0fpU7CC9xfp7JwLpUe942LmGb3R8KIxNlec4Bg487WGkxj' +
        'BDeemqd87A7OJ3MTwdoSkyhDvZPSHiSzqcSgeMbViSS+GC7Ezgv0/rI8CfX8DSmev8A3ig/ThBGxKLtdpZuTNrGMKmducRwvTQ/5hZZJ' +
        'RKRX2GX7Of54I+Qc7q+9+0Iao+avhg==',
    };
    const rawBody = Buffer.from('{"id":"EV-kat","summary":"支付成功"}', 'utf8');
    const verificationKeys = new Map([[PUB_KEY_ID, publicKey]]);

    expect(verifyNotification({ rawBody, headers, verificationKeys, now: NOW }).nonce).toBe(
      'KATNONCE0123456789ABCDEF01234567',
    );
    expectRejected(
      () =>
        verifyNotification({
          rawBody: Buffer.concat([rawBody, Buffer.from(' ')]),
          headers,
          verificationKeys,
          now: NOW,
        }),
      'WECHATPAY_SIGNATURE_MISMATCH',
      401,
    );
  });

  it('verifyResponse is the same check (API responses are signed like notifications)', () => {
    expect(verifyResponse).toBe(verifyNotification);
  });
});

describe('verifyNotification — rejected', () => {
  const merchant = testMerchant();
  const keys = merchant.verificationKeys;
  const verify = (rawBody: Buffer, headers: Record<string, string | undefined>, now = NOW) =>
    verifyNotification({ rawBody, headers, verificationKeys: keys, now, toleranceSeconds: 300 });

  it('rejects an unknown serial without fetching anything (401)', () => {
    const request = signedRequest(BODY, { serial: 'PUB_KEY_ID_9999' });
    const error = expectRejected(
      () => verify(request.rawBody, request.headers),
      'WECHATPAY_UNKNOWN_SERIAL',
      401,
    );
    expect(error.message).toContain('PUB_KEY_ID_9999');
  });

  it('rejects a signature made with another key under a known serial', () => {
    const request = signedRequest(BODY, { privateKey: rsaPair().privateKey });
    expectRejected(() => verify(request.rawBody, request.headers), 'WECHATPAY_SIGNATURE_MISMATCH', 401);
  });

  it('rejects a platform-certificate serial signed with the PUB_KEY_ID key (keys are not interchangeable)', () => {
    const request = signedRequest(BODY, { serial: PLATFORM_SERIAL });
    expectRejected(() => verify(request.rawBody, request.headers), 'WECHATPAY_SIGNATURE_MISMATCH', 401);
  });

  it('rejects a tampered body (one byte changed, and re-serialised JSON)', () => {
    const request = signedRequest(BODY);
    const tampered = Buffer.from(BODY);
    tampered[10] = (tampered[10] ?? 0) ^ 1;
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(BODY.toString('utf8')), null, 1));

    expectRejected(() => verify(tampered, request.headers), 'WECHATPAY_SIGNATURE_MISMATCH', 401);
    expectRejected(() => verify(reserialised, request.headers), 'WECHATPAY_SIGNATURE_MISMATCH', 401);
  });

  it('rejects a tampered nonce or timestamp header', () => {
    const request = signedRequest(BODY);
    expectRejected(
      () => verify(BODY, { ...request.headers, 'wechatpay-nonce': 'other' }),
      'WECHATPAY_SIGNATURE_MISMATCH',
      401,
    );
    const ts = String(Number(request.headers['wechatpay-timestamp']) + 1);
    expectRejected(
      () => verify(BODY, { ...request.headers, 'wechatpay-timestamp': ts }),
      'WECHATPAY_SIGNATURE_MISMATCH',
      401,
    );
  });

  it('rejects signature probes with their own code, before any other check', () => {
    const request = signedRequest(BODY);
    const probe = {
      ...request.headers,
      'wechatpay-signature': 'WECHATPAY/SIGNTEST/ABCDEFGHIJKLMNOPQRSTUVWXYZ==',
    };
    expectRejected(() => verify(BODY, probe), 'WECHATPAY_SIGNTEST', 401);
    // Even from an unknown serial and outside the window, a probe is counted as a probe.
    expectRejected(
      () => verify(BODY, { ...probe, 'wechatpay-serial': 'PUB_KEY_ID_UNKNOWN', 'wechatpay-timestamp': '1' }),
      'WECHATPAY_SIGNTEST',
      401,
    );
  });

  it('rejects stale and future timestamps outside the window (clock injected)', () => {
    const request = signedRequest(BODY);
    const error = expectRejected(
      () => verify(BODY, request.headers, new Date(NOW.getTime() + 301_000)),
      'WECHATPAY_TIMESTAMP_OUT_OF_WINDOW',
      401,
    );
    expect(error.message).toContain('301s');
    expectRejected(
      () => verify(BODY, request.headers, new Date(NOW.getTime() - 301_000)),
      'WECHATPAY_TIMESTAMP_OUT_OF_WINDOW',
      401,
    );
  });

  it('honours an explicit tolerance', () => {
    const request = signedRequest(BODY);
    const later = new Date(NOW.getTime() + 60_000);
    expect(() =>
      verifyNotification({ ...request, verificationKeys: keys, now: later, toleranceSeconds: 59 }),
    ).toThrow(VerificationError);
    expect(
      verifyNotification({ ...request, verificationKeys: keys, now: later, toleranceSeconds: 60 }).serial,
    ).toBe(PUB_KEY_ID);
  });

  it.each(['wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-signature', 'wechatpay-serial'])(
    'rejects a request without %s (400)',
    (name) => {
      const request = signedRequest(BODY);
      const without = { ...request.headers };
      delete without[name];
      const error = expectRejected(() => verify(BODY, without), 'WECHATPAY_HEADER_MISSING', 400);
      expect(error.message).toContain(name);
      expectRejected(() => verify(BODY, { ...request.headers, [name]: '' }), 'WECHATPAY_HEADER_MISSING', 400);
    },
  );

  it('rejects a wrong signature type (400)', () => {
    const request = signedRequest(BODY);
    for (const type of ['WECHATPAY2-SHA256-RSA4096', 'wechatpay2-sha256-rsa2048', 'SM2-WITH-SM3']) {
      expectRejected(
        () => verify(BODY, { ...request.headers, 'wechatpay-signature-type': type }),
        'WECHATPAY_SIGNATURE_TYPE',
        400,
      );
    }
  });

  it('rejects non-numeric timestamps (400)', () => {
    const request = signedRequest(BODY);
    for (const ts of ['abc', '1740791703.5', '-1740791703', ' 1740791703', '1e9', '0x67C2E0D7']) {
      expectRejected(
        () => verify(BODY, { ...request.headers, 'wechatpay-timestamp': ts }),
        'WECHATPAY_TIMESTAMP_INVALID',
        400,
      );
    }
  });

  it('rejects nonces and serials that are not printable tokens (400)', () => {
    const request = signedRequest(BODY);
    expectRejected(
      () => verify(BODY, { ...request.headers, 'wechatpay-nonce': 'a\nb' }),
      'WECHATPAY_HEADER_MALFORMED',
      400,
    );
    expectRejected(
      () => verify(BODY, { ...request.headers, 'wechatpay-serial': 'PUB KEY' }),
      'WECHATPAY_HEADER_MALFORMED',
      400,
    );
  });

  it('rejects a signature that is not canonical base64 of the key length', () => {
    const request = signedRequest(BODY);
    const signature = request.headers['wechatpay-signature']!;
    for (const bad of [
      'not base64!',
      `${signature.slice(0, -4)}`,
      signature.replaceAll('+', '-'),
      `${signature} `,
      'AAAA',
    ]) {
      expectRejected(
        () => verify(BODY, { ...request.headers, 'wechatpay-signature': bad }),
        'WECHATPAY_SIGNATURE_MALFORMED',
        401,
      );
    }
  });

  it('expects lower-cased header names: the caller normalises case (lowerCaseHeaders helps)', () => {
    const request = signedRequest(BODY);
    const mixed = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [
        name.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase()),
        value,
      ]),
    );
    expect(Object.keys(mixed)).toContain('Wechatpay-Timestamp');

    expectRejected(() => verify(BODY, mixed), 'WECHATPAY_HEADER_MISSING', 400);
    expect(verify(BODY, lowerCaseHeaders(mixed)).serial).toBe(PUB_KEY_ID);
  });

  it('treats bad arguments as programming errors (ConfigError), not as a rejected callback', () => {
    const request = signedRequest(BODY);
    expect(() =>
      verifyNotification({ ...request, verificationKeys: keys, now: new Date(Number.NaN) }),
    ).toThrow(ConfigError);
    expect(() =>
      verifyNotification({ ...request, verificationKeys: keys, now: NOW, toleranceSeconds: -1 }),
    ).toThrow(ConfigError);
  });
});

describe('verifyNotification — certificate-only merchant', () => {
  it('works when the only key is a platform certificate', () => {
    const platform = rsaPair();
    const serial = '1A2B3C4D5E6F';
    const merchant = testMerchant({
      verificationKeys: { [serial]: selfSignedCertificatePem({ ...platform, serialHex: serial }) },
    });
    const request = signedRequest(BODY, { privateKey: platform.privateKey, serial });

    expect(
      verifyNotification({ ...request, verificationKeys: merchant.verificationKeys, now: NOW }).serial,
    ).toBe(serial);
  });
});
