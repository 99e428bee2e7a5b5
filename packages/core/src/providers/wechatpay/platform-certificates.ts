// WeChat Pay platform certificates (平台证书) from `GET /v3/certificates`: open the answer (AES-256-GCM with the
// APIv3 key, tag checked), check each certificate (serial, RSA-2048, validity) and decide a merchant's next
// `verificationKeys`. Pure: the client fetches, the refresher (certificate-refresh.ts) stores. Merchants in
// public-key mode (only `PUB_KEY_ID_…` keys) have no platform certificates and are skipped by the refresher.
import crypto, { type KeyObject } from 'node:crypto';
import * as z from 'zod';
import { DecryptError, PayhooksError } from '../../errors.ts';
import { RESOURCE_ALGORITHM } from './constants.ts';
import { decryptResource } from './decrypt.ts';
import { normalizeSerial, parseVerificationKey } from './merchants.ts';

export const PUBLIC_KEY_ID_PREFIX = 'PUB_KEY_ID_';

export const PLATFORM_CERTIFICATE_CODES = {
  /** The answer is not `{ data: [...] }` with the documented fields. */
  answerInvalid: 'WECHATPAY_CERTIFICATES_INVALID',
  /** A certificate did not decrypt (wrong APIv3 key or tampered) or is not a valid RSA-2048 certificate. */
  certificateInvalid: 'WECHATPAY_CERTIFICATE_INVALID',
  /** No listed certificate is valid now: nothing is stored (the current keys stay). */
  noneValid: 'WECHATPAY_CERTIFICATES_NONE_VALID',
} as const;

export class PlatformCertificateError extends PayhooksError {}

const time = z.iso.datetime({ offset: true });
const text = z.string().min(1);
export const certificatesAnswerSchema = z.object({
  data: z.array(
    z.object({
      serial_no: text,
      effective_time: time,
      expire_time: time,
      encrypt_certificate: z.object({
        algorithm: z.literal(RESOURCE_ALGORITHM),
        nonce: text,
        associated_data: z.string().optional(),
        ciphertext: text,
      }),
    }),
  ),
});
export type CertificatesAnswer = z.infer<typeof certificatesAnswerSchema>;

export interface PlatformCertificate {
  /** Normalised hex serial (the `wechatpay-serial` WeChat Pay signs with). */
  serial: string;
  pem: string;
  publicKey: KeyObject;
  /** `effective_time`: WeChat lists a new certificate up to 24 h before it signs with it. */
  effectiveAt: Date;
  /** The earlier of `expire_time` (moved forward by WeChat before a rotation) and the certificate's notAfter. */
  expiresAt: Date;
}

/** True when the merchant verifies with at least one platform certificate (a serial that is not PUB_KEY_ID_…). */
export function usesPlatformCertificates(verificationKeys: Record<string, string>): boolean {
  return Object.keys(verificationKeys).some((serial) => !serial.startsWith(PUBLIC_KEY_ID_PREFIX));
}

/**
 * Parses and decrypts a `/v3/certificates` answer body. Decryption authenticates each certificate (only WeChat
 * Pay and the merchant hold the APIv3 key), which is why the refresher may then verify the answer's signature
 * with a certificate it has just learnt (the first download, or WeChat already signing with the new one).
 */
export function openCertificatesAnswer(
  rawBody: Uint8Array | string,
  apiv3Key: Uint8Array | string,
): PlatformCertificate[] {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(rawBody).toString('utf8'));
  } catch (cause) {
    throw new PlatformCertificateError(PLATFORM_CERTIFICATE_CODES.answerInvalid, 'answer is not JSON', {
      cause,
    });
  }
  const parsed = certificatesAnswerSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new PlatformCertificateError(
      PLATFORM_CERTIFICATE_CODES.answerInvalid,
      `the certificates answer does not have the documented shape (${fields.join('; ')})`,
    );
  }
  return parsed.data.data.map((entry) => {
    const serial = normalizeSerial(entry.serial_no);
    let pem: string;
    try {
      pem = decryptResource(entry.encrypt_certificate, apiv3Key).toString('utf8');
    } catch (cause) {
      const why = cause instanceof DecryptError ? cause.message : 'decryption failed';
      throw new PlatformCertificateError(
        PLATFORM_CERTIFICATE_CODES.certificateInvalid,
        `certificate ${serial}: ${why}`,
        { cause },
      );
    }
    let certificate: crypto.X509Certificate;
    let publicKey: KeyObject;
    try {
      certificate = new crypto.X509Certificate(pem);
      // Same checks as a configured key: RSA-2048, a certificate whose own serial is the listed one.
      publicKey = parseVerificationKey(`certificate ${serial}`, serial, pem).key;
    } catch (cause) {
      throw new PlatformCertificateError(
        PLATFORM_CERTIFICATE_CODES.certificateInvalid,
        `certificate ${serial} is not a valid RSA-2048 certificate with that serial`,
        { cause },
      );
    }
    const notAfter = new Date(certificate.validTo);
    const expireTime = new Date(entry.expire_time);
    return {
      serial,
      pem,
      publicKey,
      effectiveAt: new Date(entry.effective_time),
      expiresAt: notAfter < expireTime ? notAfter : expireTime,
    };
  });
}

export interface NextVerificationKeys {
  verificationKeys: Record<string, string>;
  added: string[];
  removed: string[];
  /** The latest expiry among the certificates kept: when it is near, WeChat has not rotated in time. */
  latestExpiry: Date;
}

/**
 * The merchant's next `verificationKeys`: its WeChat Pay public keys (PUB_KEY_ID_…) unchanged, and exactly the
 * listed certificates that are still valid. During a rotation WeChat lists the old and the new certificate
 * (both are kept, so notifications signed with either verify); once it lists only the new one, the old is
 * dropped, as WeChat's guide asks ("老证书需要在被弃用前及时清理掉"). A certificate whose effective_time is ahead is
 * kept: WeChat lists it 24 h before it starts signing with it.
 */
export function nextVerificationKeys(
  current: Record<string, string>,
  listed: readonly PlatformCertificate[],
  now: Date,
): NextVerificationKeys {
  const valid = listed.filter((certificate) => certificate.expiresAt > now);
  if (valid.length === 0) {
    throw new PlatformCertificateError(
      PLATFORM_CERTIFICATE_CODES.noneValid,
      `none of the ${listed.length} listed platform certificates is valid now; the current keys are kept`,
    );
  }
  const verificationKeys: Record<string, string> = {};
  for (const [serial, pem] of Object.entries(current)) {
    if (serial.startsWith(PUBLIC_KEY_ID_PREFIX)) verificationKeys[serial] = pem;
  }
  for (const certificate of valid) verificationKeys[certificate.serial] = certificate.pem;
  const before = new Set(
    Object.keys(current)
      .filter((serial) => !serial.startsWith(PUBLIC_KEY_ID_PREFIX))
      .map(normalizeSerial),
  );
  const after = new Set(valid.map((certificate) => certificate.serial));
  return {
    verificationKeys,
    added: [...after].filter((serial) => !before.has(serial)),
    removed: [...before].filter((serial) => !after.has(serial)),
    latestExpiry: new Date(Math.max(...valid.map((certificate) => certificate.expiresAt.getTime()))),
  };
}

/** The known keys plus the listed certificates' keys: what the `/v3/certificates` answer may be signed with. */
export function keysForCertificatesAnswer(
  known: ReadonlyMap<string, KeyObject>,
  listed: readonly PlatformCertificate[],
): Map<string, KeyObject> {
  const keys = new Map(known);
  for (const certificate of listed) keys.set(certificate.serial, certificate.publicKey);
  return keys;
}
