// Merchant configuration parsing: keys parsed once into KeyObjects, every validation error is a ConfigError
// that names the problem and never carries key material, and logs get a redacted description.
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import {
  describeMerchant,
  normalizeSerial,
  parseMerchants,
} from '../../src/providers/wechatpay/merchants.ts';
import { selfSignedCertificatePem } from '../helpers/wechatpay-certs.ts';
import {
  APIV3_KEY,
  MCHID,
  merchantConfig,
  PLATFORM_SERIAL,
  PUB_KEY_ID,
  privatePem,
  publicPem,
  rsaPair,
  testKeys,
} from '../helpers/wechatpay-fixtures.ts';

function configError(document: unknown): ConfigError {
  try {
    parseMerchants(document);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected parseMerchants to throw');
}

/** Asserts the message leaks none of the secrets in the configuration. */
function expectNoSecrets(message: string) {
  const keys = testKeys();
  expect(message).not.toContain(APIV3_KEY);
  expect(message).not.toMatch(/BEGIN|MII/);
  for (const pem of [privatePem(keys.merchant.privateKey), publicPem(keys.wechatpay.publicKey)]) {
    const body = pem.split('\n')[2] ?? '';
    expect(message).not.toContain(body);
  }
}

describe('parseMerchants', () => {
  it('parses a document with both key modes into KeyObjects and looks merchants up by id and mchid', () => {
    const keys = testKeys();
    const json = JSON.stringify({
      merchants: [merchantConfig(), merchantConfig({ id: 'second', mchid: '1900000200' })],
    });

    const registry = parseMerchants(json);
    const main = registry.byId('main');

    expect(main?.mchid).toBe(MCHID);
    expect(registry.byMchid('1900000200')?.id).toBe('second');
    expect(registry.byId('nope')).toBeUndefined();
    expect(main?.apiv3Key).toEqual(Buffer.from(APIV3_KEY, 'ascii'));
    expect(main?.privateKey.type).toBe('private');
    expect(main?.serviceProvider).toBe(false);
    expect([...(main?.verificationKeys.keys() ?? [])]).toEqual([PUB_KEY_ID, PLATFORM_SERIAL]);
    expect(main?.verificationKeys.get(PUB_KEY_ID)?.equals(keys.wechatpay.publicKey)).toBe(true);
    // A certificate contributes its public key.
    expect(main?.verificationKeys.get(PLATFORM_SERIAL)?.equals(keys.platform.publicKey)).toBe(true);
  });

  it('resolves the route key, falling back to the only merchant when no key is given', () => {
    const single = parseMerchants({ merchants: [merchantConfig()] });
    const several = parseMerchants({
      merchants: [merchantConfig(), merchantConfig({ id: 'b', mchid: '2' })],
    });

    expect(single.forRoute(undefined)?.id).toBe('main');
    expect(single.forRoute('main')?.id).toBe('main');
    expect(several.forRoute(undefined)).toBeUndefined();
    expect(several.forRoute('b')?.mchid).toBe('2');
    // The path may name the mchid instead of the configuration id.
    expect(several.forRoute('2')?.id).toBe('b');
    expect(several.forRoute('nobody')).toBeUndefined();
  });

  it('normalises hex certificate serials (case, leading zeros) but keeps PUB_KEY_ID_ as-is', () => {
    expect(normalizeSerial('00ab12')).toBe('AB12');
    expect(normalizeSerial('0')).toBe('0');
    expect(normalizeSerial(PUB_KEY_ID)).toBe(PUB_KEY_ID);
    const registry = parseMerchants({
      merchants: [
        merchantConfig({
          verificationKeys: { [PLATFORM_SERIAL.toLowerCase()]: testKeys().platformCertificatePem },
          certificateSerial: 'abc123',
        }),
      ],
    });
    expect([...registry.merchants[0]!.verificationKeys.keys()]).toEqual([PLATFORM_SERIAL]);
    expect(registry.merchants[0]!.certificateSerial).toBe('ABC123');
  });

  it('keeps the leading zero of a merchant certificate serial (serial_no is sent as configured)', () => {
    const registry = parseMerchants({ merchants: [merchantConfig({ certificateSerial: '0f87ab' })] });
    expect(registry.merchants[0]!.certificateSerial).toBe('0F87AB');
  });

  it('renders a redacted description and never serialises secrets', () => {
    const registry = parseMerchants({ merchants: [merchantConfig({ serviceProvider: true })] });
    const merchant = registry.merchants[0]!;

    const description = describeMerchant(merchant);
    const serialised = [
      JSON.stringify(merchant),
      JSON.stringify(registry.describe()),
      JSON.stringify({ ...merchant }),
    ];

    expect(description).toMatchObject({
      id: 'main',
      mchid: MCHID,
      serviceProvider: true,
      apiv3Key: '[REDACTED]',
      privateKey: '[REDACTED]',
    });
    expect(description.verificationKeys).toEqual([
      expect.objectContaining({
        serial: PUB_KEY_ID,
        source: 'public-key',
        fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      }),
      expect.objectContaining({
        serial: PLATFORM_SERIAL,
        source: 'certificate',
        validTo: '2034-01-01T00:00:00.000Z',
      }),
    ]);
    for (const text of serialised) expectNoSecrets(text);
    expect(Object.keys(merchant)).not.toContain('apiv3Key');
  });

  it.each([
    ['31 characters', APIV3_KEY.slice(1)],
    ['33 characters', `${APIV3_KEY}x`],
    ['32 characters but not 32 bytes', `${APIV3_KEY.slice(2)}支`],
  ])('rejects an apiv3Key of %s without echoing it', (_name, apiv3Key) => {
    const error = configError({ merchants: [merchantConfig({ apiv3Key })] });

    expect(error.code).toBe('WECHATPAY_APIV3_KEY');
    expect(error.message).toContain('32');
    expect(error.message).not.toContain(apiv3Key);
  });

  it('requires at least one verification key', () => {
    const error = configError({ merchants: [merchantConfig({ verificationKeys: {} })] });
    expect(error.message).toContain('at least one verification key');
  });

  it('refuses a private key in the verification key map', () => {
    const error = configError({
      merchants: [merchantConfig({ verificationKeys: { [PUB_KEY_ID]: privatePem(rsaPair().privateKey) } })],
    });
    expect(error.message).toContain('is a private key');
    expectNoSecrets(error.message);
  });

  it('refuses a private key bundled after a public key or a certificate', () => {
    const keys = testKeys();
    const secret = privatePem(rsaPair().privateKey);
    const platform = rsaPair();
    const certificate = selfSignedCertificatePem({ ...platform, serialHex: '0ABCDEF1' });
    for (const [serial, pem] of [
      [PUB_KEY_ID, `${publicPem(keys.wechatpay.publicKey)}${secret}`],
      ['0ABCDEF1', `${certificate}\n${secret}`],
    ] as const) {
      const error = configError({ merchants: [merchantConfig({ verificationKeys: { [serial]: pem } })] });
      expect(error.message).toContain('is a private key');
      expectNoSecrets(error.message);
    }
  });

  it('fingerprints a key as the SHA-256 of its SubjectPublicKeyInfo, the same on every read', () => {
    const keys = testKeys();
    const merchant = parseMerchants({ merchants: [merchantConfig()] }).merchants[0]!;
    const spki = crypto
      .createPublicKey(publicPem(keys.wechatpay.publicKey))
      .export({ type: 'spki', format: 'der' });
    const [info] = merchant.verificationKeyInfo;

    expect(info?.fingerprint).toBe(crypto.createHash('sha256').update(spki).digest('hex'));
    expect(describeMerchant(merchant).verificationKeys?.[0]?.fingerprint).toBe(info?.fingerprint);
    expect(JSON.parse(JSON.stringify(info))).toMatchObject({
      serial: PUB_KEY_ID,
      fingerprint: info?.fingerprint,
    });
  });

  it('refuses keys that are not RSA-2048', () => {
    const small = rsaPair(1024);
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

    for (const pem of [publicPem(small.publicKey), publicPem(ec.publicKey)]) {
      const error = configError({ merchants: [merchantConfig({ verificationKeys: { [PUB_KEY_ID]: pem } })] });
      expect(error.message).toContain('RSA-2048');
    }
    const badPrivate = configError({
      merchants: [merchantConfig({ privateKey: privatePem(small.privateKey) })],
    });
    expect(badPrivate.message).toContain('privateKey must be an RSA-2048 private key');
    expectNoSecrets(badPrivate.message);
  });

  it('refuses unparseable PEM without quoting it', () => {
    const garbage = '-----BEGIN PUBLIC KEY-----\nc2VjcmV0LXN0dWZm\n-----END PUBLIC KEY-----';
    const error = configError({
      merchants: [merchantConfig({ verificationKeys: { [PUB_KEY_ID]: garbage } })],
    });
    expect(error.message).toContain('not a parseable PEM');
    expect(error.message).not.toContain('c2VjcmV0');

    const cert = configError({
      merchants: [
        merchantConfig({
          verificationKeys: { AB: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' },
        }),
      ],
    });
    expect(cert.message).toContain('not a parseable PEM certificate');

    const priv = configError({ merchants: [merchantConfig({ privateKey: 'not a key' })] });
    expect(priv.message).toContain('privateKey is not a parseable');
  });

  it('refuses a certificate filed under a serial that is not its own', () => {
    const platform = rsaPair();
    const pem = selfSignedCertificatePem({ ...platform, serialHex: '0ABCDEF1' });

    const error = configError({ merchants: [merchantConfig({ verificationKeys: { '0BBBBBBB': pem } })] });

    expect(error.message).toContain("the certificate's serial is 0ABCDEF1");
  });

  it('reports schema problems by path and never by value', () => {
    const error = configError({ merchants: [merchantConfig({ mchid: 'abc', apiV3Key: APIV3_KEY })] });

    expect(error.code).toBe('WECHATPAY_CONFIG');
    expect(error.message).toContain('merchants.0.mchid');
    expect(error.message).toContain('apiV3Key');
    expectNoSecrets(error.message);
  });

  it('rejects invalid JSON without quoting it, an empty list, and duplicate ids or mchids', () => {
    const json = `{"merchants":[{"apiv3Key":"${APIV3_KEY}"`;
    const invalid = configError(json);
    expect(invalid.message).toContain('not valid JSON');
    expectNoSecrets(invalid.message);

    expect(configError({ merchants: [] }).message).toContain('at least one merchant');
    expect(configError({ merchants: [merchantConfig(), merchantConfig({ mchid: '2' })] }).message).toContain(
      'merchant id "main" is used twice',
    );
    expect(configError({ merchants: [merchantConfig(), merchantConfig({ id: 'b' })] }).message).toContain(
      `mchid ${MCHID} is configured twice`,
    );
  });
});
