// Merchant configuration (the WECHATPAY_MERCHANTS JSON document): validated (config-checks.ts) and parsed once per
// container into KeyObjects, so the request path never touches PEM text. Errors never echo key material.
import crypto, { type KeyObject } from 'node:crypto';
import { ConfigError } from '../../errors.ts';
import { type Check, checked, list, optionalFlag, strictObject, stringMap, text } from './config-checks.ts';
import { WECHATPAY_CODES as C } from './constants.ts';

const RSA_BITS = 2048;
const HEX = /^[0-9A-Fa-f]+$/;

/**
 * Canonical form of a key serial. Platform certificate serials are hex and compared without case or leading
 * zeros (node prints them upper-case, configs are often lower-case); `PUB_KEY_ID_…` ids are kept as-is.
 */
export function normalizeSerial(serial: string): string {
  // Lookup keys for inbound `wechatpay-serial` only; an outbound serial_no is sent as configured
  // (merchantCertificateSerial).
  if (!HEX.test(serial)) return serial;
  return serial.toUpperCase().replace(/^0+(?=.)/, '');
}

/**
 * The merchant certificate serial as `serial_no` of outbound requests: the configured string, upper-cased (the
 * merchant platform and WeChat Pay's docs show serials as upper-case hex) and nothing else — a leading zero is
 * part of the serial (`0F87…` is not `F87…`), so it is never stripped (docs/decisions.md "Serials are opaque").
 */
export function merchantCertificateSerial(configured: string): string {
  return configured.toUpperCase();
}

/** Each field's check, shared by the full document and the parts by purpose (merchant-parts.ts). */
export const merchantFieldChecks = {
  /** The `{merchant}` path key of `POST /webhooks/wechatpay/{merchant}`. */
  id: text({ pattern: /^[A-Za-z0-9_-]{1,64}$/, message: 'must be 1–64 characters of A-Z a-z 0-9 _ -' }),
  mchid: text({ pattern: /^[0-9]{1,32}$/, message: 'must be the numeric WeChat Pay merchant id' }),
  appid: text({ nonEmpty: true }),
  // Checked as bytes later: a 32-character string with non-ASCII characters is not a 32-byte key.
  apiv3Key: text(),
  verificationKeys: stringMap(
    { pattern: /^[\x21-\x7e]{1,128}$/, message: 'serial must be printable ASCII' },
    'needs at least one verification key',
  ),
  privateKey: text(),
  certificateSerial: text({ pattern: HEX, message: 'must be the hex serial of the merchant certificate' }),
  serviceProvider: optionalFlag,
} satisfies Record<string, Check>;

export interface MerchantConfig {
  id: string;
  mchid: string;
  appid: string;
  apiv3Key: string;
  verificationKeys: Record<string, string>;
  privateKey: string;
  certificateSerial: string;
  serviceProvider?: boolean;
}
export interface MerchantsDocument {
  merchants: MerchantConfig[];
}

const merchantsDocumentCheck = strictObject({
  merchants: list(strictObject(merchantFieldChecks, ['serviceProvider']), 'needs at least one merchant'),
});

/** Validates a full merchants document (already JSON-parsed); throws ConfigError naming paths, never values. */
export function checkMerchantsDocument(value: unknown, prefix = ''): MerchantsDocument {
  const result = checked<MerchantsDocument>(merchantsDocumentCheck, value);
  if (!result.ok) fail(`${prefix}${result.issues}`);
  return result.value;
}

export interface VerificationKeyInfo {
  serial: string;
  source: 'public-key' | 'certificate';
  /** SHA-256 of the SubjectPublicKeyInfo, hex: identifies a key in logs without revealing anything secret. */
  fingerprint: string;
  /** Certificate expiry (source 'certificate' only), ISO 8601. */
  validTo?: string;
}

/** What the webhook holds: identity and public verification material, no secret (merchant-parts.ts). */
export interface VerifyingMerchant {
  readonly id: string;
  readonly mchid: string;
  readonly appid: string;
  readonly serviceProvider: boolean;
  /** normalizeSerial(serial) → RSA-2048 public key. */
  readonly verificationKeys: ReadonlyMap<string, KeyObject>;
  readonly verificationKeyInfo: readonly VerificationKeyInfo[];
}

/** What the consumer holds: identity and the APIv3 key (decryption), no private key. */
export interface DecryptingMerchant {
  readonly id: string;
  readonly mchid: string;
  readonly appid: string;
  /** The 32 bytes of the APIv3 key (non-enumerable: not printed by accident). */
  readonly apiv3Key: Buffer;
}

export interface Merchant extends VerifyingMerchant, DecryptingMerchant {
  /** Merchant certificate serial as configured, upper-case hex, leading zeros kept (`serial_no` of requests). */
  readonly certificateSerial: string;
  /** Merchant private key for outbound requests (non-enumerable). */
  readonly privateKey: KeyObject;
}

export interface MerchantDescription {
  id: string;
  mchid: string;
  appid: string;
  serviceProvider?: boolean;
  certificateSerial?: string;
  verificationKeys?: VerificationKeyInfo[];
  /** '[REDACTED]' when held, absent when this container was never given it (merchant-parts.ts). */
  apiv3Key?: '[REDACTED]';
  privateKey?: '[REDACTED]';
}

export interface MerchantRegistry<M extends { id: string; mchid: string } = Merchant> {
  readonly merchants: readonly M[];
  byId(id: string): M | undefined;
  byMchid(mchid: string): M | undefined;
  /** `{merchant}` path parameter → merchant; without one, the only merchant when exactly one is configured. */
  forRoute(id: string | undefined): M | undefined;
  describe(): MerchantDescription[];
}

export function fail(message: string): never {
  throw new ConfigError(C.config, `WeChat Pay merchant configuration: ${message}`);
}

function rsaBits(key: KeyObject): number | undefined {
  return key.asymmetricKeyType === 'rsa' ? key.asymmetricKeyDetails?.modulusLength : undefined;
}

// A BEGIN line of any label but the two WeChat Pay issues (PUBLIC KEY, CERTIFICATE), at the start of a line as
// OpenSSL reads one. Only such a block can hold private key material (PRIVATE KEY, RSA PRIVATE KEY, or a private
// key mislabelled RSA PUBLIC KEY or EC PARAMETERS), so without one the createPrivateKey probe, which costs ~0.6 ms
// per key at cold start just to fail, is skipped.
const OTHER_PEM_BLOCK = /^-----BEGIN (?!(?:PUBLIC KEY|CERTIFICATE)-----[ \t\r]*$)/m;

function isPrivateKeyPem(pem: string): boolean {
  if (!OTHER_PEM_BLOCK.test(pem)) return false;
  try {
    crypto.createPrivateKey(pem);
    return true;
  } catch {
    return false;
  }
}

export function parseVerificationKey(
  where: string,
  serial: string,
  pem: string,
): { key: KeyObject; info: VerificationKeyInfo } {
  // createPublicKey would happily derive a public key from a private one: refuse secrets in this map.
  if (isPrivateKeyPem(pem))
    fail(`${where} is a private key; configure the WeChat Pay public key or certificate`);
  let key: KeyObject;
  let validTo: string | undefined;
  if (pem.includes('CERTIFICATE-----')) {
    let certificate: crypto.X509Certificate;
    try {
      certificate = new crypto.X509Certificate(pem);
    } catch {
      fail(`${where} is not a parseable PEM certificate`);
    }
    if (HEX.test(serial) && normalizeSerial(certificate.serialNumber) !== normalizeSerial(serial)) {
      fail(`${where}: the certificate's serial is ${certificate.serialNumber}, not the configured ${serial}`);
    }
    key = certificate.publicKey;
    validTo = new Date(certificate.validTo).toISOString();
  } else {
    try {
      key = crypto.createPublicKey(pem);
    } catch {
      fail(`${where} is not a parseable PEM public key or certificate`);
    }
  }
  const bits = rsaBits(key);
  if (bits !== RSA_BITS)
    fail(`${where} must be an RSA-${RSA_BITS} key (got ${key.asymmetricKeyType} ${bits ?? ''})`);
  // Only descriptions (logs, doctor) read the fingerprint: hashed on first read, not at every cold start.
  let fingerprint: string | undefined;
  const info: VerificationKeyInfo = {
    serial,
    source: validTo ? 'certificate' : 'public-key',
    get fingerprint() {
      fingerprint ??= crypto
        .createHash('sha256')
        .update(key.export({ type: 'spki', format: 'der' }))
        .digest('hex');
      return fingerprint;
    },
  };
  if (validTo) info.validTo = validTo;
  return { key, info };
}

export function parsePrivateKey(where: string, pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = crypto.createPrivateKey(pem);
  } catch {
    fail(`${where} is not a parseable unencrypted PEM private key`);
  }
  const bits = rsaBits(key);
  if (bits !== RSA_BITS) fail(`${where} must be an RSA-${RSA_BITS} private key`);
  return key;
}

export function parseApiv3Key(where: string, text: string): Buffer {
  const apiv3Key = Buffer.from(text, 'utf8');
  if (apiv3Key.length !== 32 || !/^[\x20-\x7e]*$/.test(text)) {
    throw new ConfigError(C.apiv3Key, `${where}: apiv3Key must be exactly 32 ASCII characters (32 bytes)`);
  }
  return apiv3Key;
}

export function parseVerificationKeys(
  where: string,
  pems: Record<string, string>,
): { verificationKeys: Map<string, KeyObject>; verificationKeyInfo: VerificationKeyInfo[] } {
  const verificationKeys = new Map<string, KeyObject>();
  const verificationKeyInfo: VerificationKeyInfo[] = [];
  for (const [rawSerial, pem] of Object.entries(pems)) {
    const serial = normalizeSerial(rawSerial);
    if (verificationKeys.has(serial)) fail(`${where}: verification key serial ${serial} is listed twice`);
    const { key, info } = parseVerificationKey(`${where} verificationKeys["${rawSerial}"]`, serial, pem);
    verificationKeys.set(serial, key);
    verificationKeyInfo.push(info);
  }
  return { verificationKeys, verificationKeyInfo };
}

function buildMerchant(config: MerchantConfig): Merchant {
  const where = `merchant "${config.id}"`;
  const apiv3Key = parseApiv3Key(where, config.apiv3Key);
  const { verificationKeys, verificationKeyInfo } = parseVerificationKeys(where, config.verificationKeys);
  const privateKey = parsePrivateKey(`${where} privateKey`, config.privateKey);
  const merchant = {
    id: config.id,
    mchid: config.mchid,
    appid: config.appid,
    serviceProvider: config.serviceProvider ?? false,
    certificateSerial: merchantCertificateSerial(config.certificateSerial),
    verificationKeys,
    verificationKeyInfo,
  };
  // Secrets are non-enumerable and toJSON redacts, so logging a Merchant by mistake prints no secret.
  Object.defineProperties(merchant, {
    apiv3Key: { value: apiv3Key, enumerable: false },
    privateKey: { value: privateKey, enumerable: false },
    toJSON: { value: () => describeMerchant(merchant as unknown as Merchant), enumerable: false },
  });
  return Object.freeze(merchant) as unknown as Merchant;
}

/** A log-safe description: ids, serials, key fingerprints and expiry; never key material. */
export function describeMerchant(merchant: Merchant): MerchantDescription {
  return {
    id: merchant.id,
    mchid: merchant.mchid,
    appid: merchant.appid,
    serviceProvider: merchant.serviceProvider,
    certificateSerial: merchant.certificateSerial,
    verificationKeys: merchant.verificationKeyInfo.map((info) => ({ ...info })),
    apiv3Key: '[REDACTED]',
    privateKey: '[REDACTED]',
  };
}

/**
 * Parses the merchant configuration (JSON text or an already-parsed value) and every key in it, once.
 * Throws ConfigError (code WECHATPAY_CONFIG, or WECHATPAY_APIV3_KEY for a bad APIv3 key).
 */
export function parseMerchants(document: string | unknown): MerchantRegistry {
  let value: unknown = document;
  if (typeof document === 'string') {
    try {
      value = JSON.parse(document);
    } catch {
      // JSON.parse messages quote the input, which here is full of secrets.
      fail('not valid JSON');
    }
  }
  return registryOf(checkMerchantsDocument(value).merchants.map(buildMerchant), describeMerchant);
}

/** Lookup by id and mchid over built merchants; ids and mchids must be unique. */
export function registryOf<M extends { id: string; mchid: string }>(
  merchants: M[],
  describe: (merchant: M) => MerchantDescription,
): MerchantRegistry<M> {
  const byId = new Map<string, M>();
  const byMchid = new Map<string, M>();
  for (const merchant of merchants) {
    if (byId.has(merchant.id)) fail(`merchant id "${merchant.id}" is used twice`);
    if (byMchid.has(merchant.mchid)) fail(`mchid ${merchant.mchid} is configured twice`);
    byId.set(merchant.id, merchant);
    byMchid.set(merchant.mchid, merchant);
  }
  return Object.freeze({
    merchants: Object.freeze(merchants),
    byId: (id: string) => byId.get(id),
    byMchid: (mchid: string) => byMchid.get(mchid),
    // The per-merchant path names the configuration id or the mchid (docs/deploy.md uses the mchid).
    forRoute: (id: string | undefined) =>
      id === undefined || id === ''
        ? merchants.length === 1
          ? merchants[0]
          : undefined
        : (byId.get(id) ?? byMchid.get(id)),
    describe: () => merchants.map(describe),
  });
}
