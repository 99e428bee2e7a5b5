// Verifies the signature and freshness of a WeChat Pay notification (or API response): a pure function of
// raw bytes, lower-cased headers, configured public keys and the injected time. Never fetches keys.
import crypto, { type KeyObject } from 'node:crypto';
import { ConfigError, VerificationError } from '../../errors.ts';
import {
  WECHATPAY_CODES as C,
  DEFAULT_TOLERANCE_SECONDS,
  HEADERS,
  SIGNATURE_TYPE,
  SIGNTEST_PREFIX,
} from './constants.ts';
import { decodeBase64Strict, isBytes } from './encoding.ts';
import { normalizeSerial } from './merchants.ts';
import { notificationMessage } from './message.ts';

export interface VerifyNotificationInput {
  /**
   * The body bytes exactly as received (the caller decodes API Gateway's isBase64Encoded), or the text standing
   * for their UTF-8 encoding (IngressRequest.body).
   */
  rawBody: Uint8Array | string;
  /** Header names must already be lower-case (API Gateway HTTP APIs deliver them so; see lowerCaseHeaders). */
  headers: Readonly<Record<string, string | undefined>>;
  /** serial (`PUB_KEY_ID_…` or platform certificate serial) → public key; `Merchant.verificationKeys`. */
  verificationKeys: ReadonlyMap<string, KeyObject>;
  now: Date;
  /** Always pass it explicitly; defaults to the protocol's 300 s. */
  toleranceSeconds?: number;
}

export interface VerifiedSignature {
  /** The serial whose key verified the signature (which key of a rotation overlap was used). */
  serial: string;
  timestamp: number;
  nonce: string;
}

// Unix seconds; 12 digits is far beyond any plausible clock and keeps Number exact.
const TIMESTAMP = /^[0-9]{1,12}$/;
// Printable ASCII without separators that could make the signed message ambiguous.
const TOKEN = /^[\x21-\x7e]{1,128}$/;

/** Copies headers with lower-cased names, for callers whose transport keeps the original case. */
export function lowerCaseHeaders(
  headers: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') out[name.toLowerCase()] = value;
  }
  return out;
}

function requireHeader(headers: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = headers[name];
  if (value === undefined || value === '') {
    throw new VerificationError(
      C.headerMissing,
      `missing header ${name} (header names must be lower-case)`,
      400,
    );
  }
  if (typeof value !== 'string') {
    throw new VerificationError(C.headerMalformed, `header ${name} is not a single string value`, 400);
  }
  // API Gateway joins a repeated header with commas; no WeChat Pay header value ever contains one.
  if (value.includes(',')) {
    throw new VerificationError(C.headerMalformed, `header ${name} appears more than once`, 400);
  }
  return value;
}

function checkArguments(input: VerifyNotificationInput): number {
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) {
    throw new ConfigError(C.argument, 'toleranceSeconds must be a finite number ≥ 0');
  }
  if (!(input.now instanceof Date) || !Number.isFinite(input.now.getTime())) {
    throw new ConfigError(C.argument, 'now must be a valid Date');
  }
  if (!(input.verificationKeys instanceof Map)) {
    throw new ConfigError(C.argument, 'verificationKeys must be a Map of serial → KeyObject');
  }
  if (typeof input.headers !== 'object' || input.headers === null) {
    throw new VerificationError(C.headerMissing, 'no headers', 400);
  }
  return tolerance;
}

/**
 * Checks, in this order: required headers present; signature type (when sent) is WECHATPAY2-SHA256-RSA2048;
 * not a WECHATPAY/SIGNTEST/ probe; numeric timestamp within ±tolerance of `now`; serial configured;
 * signature is canonical base64 of the key's length; RSA-SHA256 PKCS#1 v1.5 over
 * `${timestamp}\n${nonce}\n${rawBody}\n`. Throws VerificationError (codes in constants.ts) on any failure;
 * ConfigError only for programming errors in the arguments.
 */
export function verifyNotification(input: VerifyNotificationInput): VerifiedSignature {
  const tolerance = checkArguments(input);
  const { headers } = input;
  if (typeof input.rawBody !== 'string' && !isBytes(input.rawBody)) {
    throw new VerificationError(C.bodyInvalid, 'rawBody must be the received bytes (Buffer)', 400);
  }
  const timestampText = requireHeader(headers, HEADERS.timestamp);
  const nonce = requireHeader(headers, HEADERS.nonce);
  const signatureText = requireHeader(headers, HEADERS.signature);
  const serialText = requireHeader(headers, HEADERS.serial);
  const signatureType = headers[HEADERS.signatureType];
  if (signatureType !== undefined && signatureType !== SIGNATURE_TYPE) {
    throw new VerificationError(
      C.signatureType,
      `unsupported ${HEADERS.signatureType}; expected ${SIGNATURE_TYPE}`,
      400,
    );
  }
  // Probes are checked before anything else can fail so they are always counted as probes.
  if (signatureText.startsWith(SIGNTEST_PREFIX)) {
    throw new VerificationError(
      C.signtest,
      'signature probe (WECHATPAY/SIGNTEST/): answered as failure',
      401,
    );
  }
  if (!TOKEN.test(nonce)) {
    throw new VerificationError(C.headerMalformed, `header ${HEADERS.nonce} is not a printable token`, 400);
  }
  if (!TOKEN.test(serialText)) {
    throw new VerificationError(C.headerMalformed, `header ${HEADERS.serial} is not a printable token`, 400);
  }
  if (!TIMESTAMP.test(timestampText)) {
    throw new VerificationError(C.timestampInvalid, `header ${HEADERS.timestamp} is not unix seconds`, 400);
  }
  const timestamp = Number(timestampText);
  const skew = Math.abs(Math.floor(input.now.getTime() / 1000) - timestamp);
  if (skew > tolerance) {
    throw new VerificationError(
      C.timestampOutOfWindow,
      `timestamp is ${skew}s away from now (tolerance ${tolerance}s): replayed, delayed, or clock skew`,
      401,
    );
  }
  const serial = normalizeSerial(serialText);
  const key = input.verificationKeys.get(serial);
  if (!key) {
    throw new VerificationError(
      C.unknownSerial,
      `no verification key configured for serial ${serial}; add it to the merchant's verificationKeys`,
      401,
    );
  }
  const signature = decodeBase64Strict(signatureText);
  const modulusBits = key.asymmetricKeyDetails?.modulusLength;
  if (!signature || (modulusBits !== undefined && signature.length !== modulusBits / 8)) {
    throw new VerificationError(
      C.signatureMalformed,
      `header ${HEADERS.signature} is not a base64 RSA signature`,
      401,
    );
  }
  let valid: boolean;
  try {
    valid = crypto.verify(
      'RSA-SHA256',
      notificationMessage(timestampText, nonce, input.rawBody),
      key,
      signature,
    );
  } catch (cause) {
    // Only reachable with a key that is not RSA; merchants.ts refuses such keys.
    throw new VerificationError(
      C.signatureMismatch,
      `signature could not be checked with key ${serial}`,
      401,
      {
        cause,
      },
    );
  }
  if (!valid) {
    throw new VerificationError(
      C.signatureMismatch,
      `signature does not match for serial ${serial}: is the raw body passed unmodified?`,
      401,
    );
  }
  return { serial, timestamp, nonce };
}

/** API responses are signed exactly like notifications (same headers, same message with the response body). */
export const verifyResponse = verifyNotification;
