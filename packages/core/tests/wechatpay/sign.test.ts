// Signing helpers: notification/response signature headers (sandbox) and the merchant API Authorization
// header, checked against hand-built messages and through the parser/verifier the sandbox uses.
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, VerificationError } from '../../src/errors.ts';
import { parseAuthorization, verifyAuthorization } from '../../src/providers/wechatpay/authorization.ts';
import {
  buildAuthorization,
  buildSignatureHeaders,
  newNonce,
  signMessage,
} from '../../src/providers/wechatpay/sign.ts';
import { verifyNotification } from '../../src/providers/wechatpay/verify.ts';
import {
  MCHID,
  MERCHANT_CERT_SERIAL,
  NOW,
  PUB_KEY_ID,
  testKeys,
  testMerchant,
} from '../helpers/wechatpay-fixtures.ts';

const PATH = '/v3/bill/tradebill?bill_date=2025-03-01&bill_type=ALL&tar_type=GZIP';

function rejection(fn: () => unknown): VerificationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(VerificationError);
    return error as VerificationError;
  }
  throw new Error('expected a VerificationError');
}

describe('buildSignatureHeaders', () => {
  it('signs TIMESTAMP\\nNONCE\\nBODY\\n so verifyNotification accepts it', () => {
    const body = Buffer.from('{"summary":"退款成功"}');
    const headers = buildSignatureHeaders({
      body,
      privateKey: testKeys().wechatpay.privateKey,
      serial: PUB_KEY_ID,
      now: NOW,
    });

    const message = Buffer.concat([
      Buffer.from(`${headers['wechatpay-timestamp']}\n${headers['wechatpay-nonce']}\n`),
      body,
      Buffer.from('\n'),
    ]);

    expect(headers['wechatpay-timestamp']).toBe('1740791703');
    expect(headers['wechatpay-nonce']).toMatch(/^[0-9A-F]{32}$/);
    expect(headers['wechatpay-signature-type']).toBe('WECHATPAY2-SHA256-RSA2048');
    expect(
      crypto.verify(
        'RSA-SHA256',
        message,
        testKeys().wechatpay.publicKey,
        Buffer.from(headers['wechatpay-signature'], 'base64'),
      ),
    ).toBe(true);
    expect(
      verifyNotification({
        rawBody: body,
        headers: { ...headers },
        verificationKeys: testMerchant().verificationKeys,
        now: NOW,
      }).serial,
    ).toBe(PUB_KEY_ID);
  });

  it('uses fresh CSPRNG nonces', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => newNonce()));
    expect(nonces.size).toBe(50);
  });

  it('signMessage refuses a public key', () => {
    expect(() => signMessage('x', testKeys().wechatpay.publicKey)).toThrow(ConfigError);
  });
});

describe('buildAuthorization', () => {
  const { privateKey, publicKey } = testKeys().merchant;
  const merchantKeys = new Map([[MERCHANT_CERT_SERIAL, publicKey]]);

  it('produces the documented header over METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY\\n (GET: empty body)', () => {
    const header = buildAuthorization({
      method: 'get',
      pathWithQuery: PATH,
      body: '',
      mchid: MCHID,
      serialNo: MERCHANT_CERT_SERIAL,
      privateKey,
      now: NOW,
      nonce: 'C5AC7F3B27D14C68B1CB0D2E1F6F2B0F',
    });

    expect(header).toMatch(
      /^WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="C5AC7F3B27D14C68B1CB0D2E1F6F2B0F",signature="[A-Za-z0-9+/=]+",timestamp="1740791703",serial_no="444F4864EA9B34415DEBFBD2B2C4BFD8D49D6C19"$/,
    );
    const signature = /signature="([^"]+)"/.exec(header)?.[1] ?? '';
    const message = `GET\n${PATH}\n1740791703\nC5AC7F3B27D14C68B1CB0D2E1F6F2B0F\n\n`;
    expect(
      crypto.verify('RSA-SHA256', Buffer.from(message), publicKey, Buffer.from(signature, 'base64')),
    ).toBe(true);
  });

  it('round-trips through parseAuthorization and verifyAuthorization, with a JSON body', () => {
    const body = '{"out_refund_no":"R-1","amount":{"refund":100,"total":100,"currency":"CNY"}}';
    const authorization = buildAuthorization({
      method: 'POST',
      pathWithQuery: '/v3/refund/domestic/refunds',
      body,
      mchid: MCHID,
      serialNo: MERCHANT_CERT_SERIAL,
      privateKey,
      now: NOW,
    });

    const parsed = verifyAuthorization({
      authorization,
      method: 'POST',
      pathWithQuery: '/v3/refund/domestic/refunds',
      body,
      merchantKeys,
      expectedMchid: MCHID,
      now: new Date(NOW.getTime() + 10_000),
    });

    expect(parsed).toMatchObject({ mchid: MCHID, serialNo: MERCHANT_CERT_SERIAL, timestamp: '1740791703' });
    expect(parsed.nonceStr).toMatch(/^[0-9A-F]{32}$/);
  });

  it('is rejected for another path, method, body, mchid, serial, or an old timestamp', () => {
    const authorization = buildAuthorization({
      method: 'GET',
      pathWithQuery: PATH,
      body: '',
      mchid: MCHID,
      serialNo: MERCHANT_CERT_SERIAL,
      privateKey,
      now: NOW,
    });
    const base = { authorization, method: 'GET', pathWithQuery: PATH, body: '', merchantKeys, now: NOW };

    expect(rejection(() => verifyAuthorization({ ...base, pathWithQuery: `${PATH}&x=1` })).code).toBe(
      'WECHATPAY_SIGNATURE_MISMATCH',
    );
    expect(rejection(() => verifyAuthorization({ ...base, method: 'POST' })).code).toBe(
      'WECHATPAY_SIGNATURE_MISMATCH',
    );
    expect(rejection(() => verifyAuthorization({ ...base, body: '{}' })).code).toBe(
      'WECHATPAY_SIGNATURE_MISMATCH',
    );
    expect(rejection(() => verifyAuthorization({ ...base, expectedMchid: '1' })).code).toBe(
      'WECHATPAY_AUTHORIZATION_MCHID',
    );
    expect(rejection(() => verifyAuthorization({ ...base, merchantKeys: new Map() })).code).toBe(
      'WECHATPAY_UNKNOWN_SERIAL',
    );
    expect(
      rejection(() => verifyAuthorization({ ...base, now: new Date(NOW.getTime() + 301_000) })).code,
    ).toBe('WECHATPAY_TIMESTAMP_OUT_OF_WINDOW');
  });

  it('refuses a path with scheme or host (the signature covers the path only)', () => {
    expect(() =>
      buildAuthorization({
        method: 'GET',
        pathWithQuery: 'https://api.mch.weixin.qq.com/v3/certificates',
        body: '',
        mchid: MCHID,
        serialNo: MERCHANT_CERT_SERIAL,
        privateKey,
        now: NOW,
      }),
    ).toThrow(ConfigError);
  });
});

describe('parseAuthorization', () => {
  it('accepts parameters in any order', () => {
    const parsed = parseAuthorization(
      'WECHATPAY2-SHA256-RSA2048 serial_no="AB", timestamp="1", signature="c2ln", nonce_str="n", mchid="1"',
    );
    expect(parsed).toEqual({ mchid: '1', nonceStr: 'n', signature: 'c2ln', timestamp: '1', serialNo: 'AB' });
  });

  it.each([
    ['missing', undefined, 'WECHATPAY_AUTHORIZATION_MISSING', 401],
    ['empty', ' ', 'WECHATPAY_AUTHORIZATION_MISSING', 401],
    ['wrong scheme', 'Bearer mchid="1"', 'WECHATPAY_AUTHORIZATION_MALFORMED', 400],
    ['unquoted', 'WECHATPAY2-SHA256-RSA2048 mchid=1', 'WECHATPAY_AUTHORIZATION_MALFORMED', 400],
    ['duplicate', 'WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="2"', 'WECHATPAY_AUTHORIZATION_MALFORMED', 400],
    [
      'missing serial_no',
      'WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="c2ln",timestamp="1"',
      'WECHATPAY_AUTHORIZATION_MALFORMED',
      400,
    ],
  ])('rejects a %s header', (_name, header, code, status) => {
    const error = rejection(() => parseAuthorization(header));
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
  });
});
