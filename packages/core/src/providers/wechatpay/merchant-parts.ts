// The merchants document split by need (docs/wechatpay-merchants.md, docs/decisions.md "Merchant secrets by
// need"): the webhook holds `verify` parts only (public keys and ids), the consumer `decrypt` parts (APIv3
// keys), reconciliation, sweep and backfill all three (`sign` adds the merchant private key). Each part is
// small (≤ 3.6 KB with a rotation overlap), so one part of one merchant fits one SSM parameter.
import { checked, list, strictObject } from './config-checks.ts';
import {
  checkMerchantsDocument,
  type DecryptingMerchant,
  fail,
  type MerchantConfig,
  type MerchantDescription,
  type MerchantRegistry,
  type MerchantsDocument,
  merchantFieldChecks,
  parseApiv3Key,
  parseMerchants,
  parseVerificationKeys,
  registryOf,
  type VerifyingMerchant,
} from './merchants.ts';

export const MERCHANT_PURPOSES = ['verify', 'decrypt', 'sign'] as const;
export type MerchantPurpose = (typeof MERCHANT_PURPOSES)[number];

const shape = merchantFieldChecks;
// Strict: a part carrying another purpose's field (a privateKey in a verify part) is refused, not ignored.
const partChecks = {
  verify: strictObject(
    {
      id: shape.id,
      mchid: shape.mchid,
      appid: shape.appid,
      serviceProvider: shape.serviceProvider,
      verificationKeys: shape.verificationKeys,
    },
    ['serviceProvider'],
  ),
  decrypt: strictObject({ id: shape.id, mchid: shape.mchid, appid: shape.appid, apiv3Key: shape.apiv3Key }),
  sign: strictObject({
    id: shape.id,
    mchid: shape.mchid,
    certificateSerial: shape.certificateSerial,
    privateKey: shape.privateKey,
  }),
};

export type VerifyPart = Pick<
  MerchantConfig,
  'id' | 'mchid' | 'appid' | 'serviceProvider' | 'verificationKeys'
>;
export type DecryptPart = Pick<MerchantConfig, 'id' | 'mchid' | 'appid' | 'apiv3Key'>;
export type SignPart = Pick<MerchantConfig, 'id' | 'mchid' | 'certificateSerial' | 'privateKey'>;
export interface MerchantParts {
  verify: VerifyPart;
  decrypt: DecryptPart;
  sign: SignPart;
}

function parseJson(document: unknown, what: string): unknown {
  if (typeof document !== 'string') return document;
  try {
    return JSON.parse(document);
  } catch {
    // JSON.parse messages quote the input, which may be full of secrets.
    fail(`${what} is not valid JSON`);
  }
}

/** Splits one merchant's full configuration into its three parts. */
export function splitMerchantConfig(config: MerchantConfig): MerchantParts {
  const { id, mchid, appid, serviceProvider, verificationKeys, apiv3Key, certificateSerial, privateKey } =
    config;
  return {
    verify: {
      id,
      mchid,
      appid,
      ...(serviceProvider === undefined ? {} : { serviceProvider }),
      verificationKeys,
    },
    decrypt: { id, mchid, appid, apiv3Key },
    sign: { id, mchid, certificateSerial, privateKey },
  };
}

/** Validates a full merchants document (the single-document format) and splits every merchant. */
export function splitMerchantsDocument(document: string | unknown): MerchantParts[] {
  return checkMerchantsDocument(parseJson(document, 'the merchants document')).merchants.map(
    splitMerchantConfig,
  );
}

/** Validates the parts of one purpose: `{ "merchants": [part, …] }` (JSON text or a value). */
export function parsePartsDocument<P extends MerchantPurpose>(
  purpose: P,
  document: string | unknown,
): MerchantParts[P][] {
  const result = checked<{ merchants: MerchantParts[P][] }>(
    strictObject({ merchants: list(partChecks[purpose]) }),
    parseJson(document, `the ${purpose} merchants document`),
  );
  if (!result.ok) fail(`${purpose} parts: ${result.issues}`);
  return result.value.merchants;
}

function describePart(merchant: VerifyingMerchant | DecryptingMerchant): MerchantDescription {
  const description: MerchantDescription = { id: merchant.id, mchid: merchant.mchid, appid: merchant.appid };
  if ('verificationKeys' in merchant) {
    description.serviceProvider = merchant.serviceProvider;
    description.verificationKeys = merchant.verificationKeyInfo.map((info) => ({ ...info }));
  }
  if ('apiv3Key' in merchant) description.apiv3Key = '[REDACTED]';
  return description;
}

/** The webhook's registry: public verification keys and ids; no APIv3 key, no private key. */
export function parseVerifyingMerchants(document: string | unknown): MerchantRegistry<VerifyingMerchant> {
  const merchants = parsePartsDocument('verify', document).map((part): VerifyingMerchant => {
    const keys = parseVerificationKeys(`merchant "${part.id}"`, part.verificationKeys);
    const merchant = {
      id: part.id,
      mchid: part.mchid,
      appid: part.appid,
      serviceProvider: part.serviceProvider ?? false,
      ...keys,
    };
    Object.defineProperty(merchant, 'toJSON', { value: () => describePart(merchant), enumerable: false });
    return Object.freeze(merchant);
  });
  return registryOf(merchants, describePart);
}

/** The consumer's registry: ids and APIv3 keys (non-enumerable); no private key, no verification keys. */
export function parseDecryptingMerchants(document: string | unknown): MerchantRegistry<DecryptingMerchant> {
  const merchants = parsePartsDocument('decrypt', document).map((part): DecryptingMerchant => {
    const merchant = { id: part.id, mchid: part.mchid, appid: part.appid };
    Object.defineProperties(merchant, {
      apiv3Key: { value: parseApiv3Key(`merchant "${part.id}"`, part.apiv3Key), enumerable: false },
      toJSON: { value: () => describePart(merchant as DecryptingMerchant), enumerable: false },
    });
    return Object.freeze(merchant) as DecryptingMerchant;
  });
  return registryOf(merchants, describePart);
}

/** Reassembles the three parts of every merchant (reconciliation, sweep, backfill) into the full registry. */
export function joinMerchantParts(parts: {
  verify: VerifyPart[];
  decrypt: DecryptPart[];
  sign: SignPart[];
}): MerchantsDocument {
  const byId = (list: { id: string; mchid: string }[], purpose: MerchantPurpose) => {
    const map = new Map<string, { id: string; mchid: string }>();
    for (const part of list) {
      if (map.has(part.id)) fail(`merchant id "${part.id}" has two ${purpose} parts`);
      map.set(part.id, part);
    }
    return map;
  };
  const decrypt = byId(parts.decrypt, 'decrypt') as Map<string, DecryptPart>;
  const sign = byId(parts.sign, 'sign') as Map<string, SignPart>;
  const verify = byId(parts.verify, 'verify') as Map<string, VerifyPart>;
  for (const [purpose, map] of [
    ['decrypt', decrypt],
    ['sign', sign],
  ] as const) {
    for (const id of map.keys())
      if (!verify.has(id)) fail(`merchant "${id}" has a ${purpose} part but no verify part`);
  }
  const merchants = [...verify.values()].map((v): MerchantConfig => {
    const d = decrypt.get(v.id);
    const s = sign.get(v.id);
    if (!d || !s) fail(`merchant "${v.id}" lacks its ${d ? 'sign' : 'decrypt'} part`);
    if (d.mchid !== v.mchid || s.mchid !== v.mchid || d.appid !== v.appid)
      fail(`merchant "${v.id}": its parts disagree on mchid or appid`);
    return { ...v, apiv3Key: d.apiv3Key, certificateSerial: s.certificateSerial, privateKey: s.privateKey };
  });
  return { merchants } as MerchantsDocument;
}

export function parseMerchantParts(parts: {
  verify: VerifyPart[];
  decrypt: DecryptPart[];
  sign: SignPart[];
}): MerchantRegistry {
  return parseMerchants(joinMerchantParts(parts));
}
