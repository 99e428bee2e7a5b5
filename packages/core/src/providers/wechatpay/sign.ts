// Signing with an RSA private key: outbound merchant API requests (Authorization header) and, for the
// sandbox and tests, notifications and responses signed the way WeChat Pay signs them.
import crypto, { type KeyObject } from 'node:crypto';
import { ConfigError } from '../../errors.ts';
import { AUTHORIZATION_SCHEME, HEADERS, SIGNATURE_TYPE, WECHATPAY_CODES } from './constants.ts';
import { notificationMessage, requestMessage } from './message.ts';

/** A 32-character upper-case hex nonce from the CSPRNG (never Math.random). */
export function newNonce(): string {
  return crypto.randomBytes(16).toString('hex').toUpperCase();
}

/** Unix seconds of `now`, as the decimal string that goes into headers and messages. */
export function unixSeconds(now: Date): string {
  const ms = now.getTime();
  if (!Number.isFinite(ms)) throw new ConfigError(WECHATPAY_CODES.argument, 'now is not a valid Date');
  return String(Math.floor(ms / 1000));
}

/** SHA256-RSA (PKCS#1 v1.5) signature of `message`, base64. */
export function signMessage(message: Uint8Array | string, privateKey: KeyObject): string {
  if (privateKey?.type !== 'private') {
    throw new ConfigError(WECHATPAY_CODES.argument, 'signMessage needs a private KeyObject');
  }
  return crypto
    .sign('RSA-SHA256', typeof message === 'string' ? Buffer.from(message) : message, privateKey)
    .toString('base64');
}

export interface SignatureHeaders {
  'wechatpay-timestamp': string;
  'wechatpay-nonce': string;
  'wechatpay-signature': string;
  'wechatpay-serial': string;
  'wechatpay-signature-type': string;
}

export interface BuildSignatureHeadersInput {
  body: Uint8Array | string;
  privateKey: KeyObject;
  /** `PUB_KEY_ID_…` or the platform certificate serial the receiver will look the key up by. */
  serial: string;
  now: Date;
  nonce?: string;
}

/** Headers WeChat Pay sends with a notification or an API response (lower-case names). */
export function buildSignatureHeaders(input: BuildSignatureHeadersInput): SignatureHeaders {
  const timestamp = unixSeconds(input.now);
  const nonce = input.nonce ?? newNonce();
  return {
    [HEADERS.timestamp]: timestamp,
    [HEADERS.nonce]: nonce,
    [HEADERS.signature]: signMessage(notificationMessage(timestamp, nonce, input.body), input.privateKey),
    [HEADERS.serial]: input.serial,
    [HEADERS.signatureType]: SIGNATURE_TYPE,
  };
}

export interface BuildAuthorizationInput {
  method: string;
  /** Path plus query string exactly as sent, e.g. `/v3/bill/tradebill?bill_date=2025-03-01&bill_type=ALL`. */
  pathWithQuery: string;
  /** Request body as sent; '' for GET. */
  body: Uint8Array | string;
  mchid: string;
  /** Merchant certificate serial (`serial_no`). */
  serialNo: string;
  privateKey: KeyObject;
  now: Date;
  nonce?: string;
}

/** The `Authorization` header value for a merchant API request. */
export function buildAuthorization(input: BuildAuthorizationInput): string {
  if (!input.pathWithQuery.startsWith('/')) {
    throw new ConfigError(WECHATPAY_CODES.argument, 'pathWithQuery must start with "/" (no scheme or host)');
  }
  const timestamp = unixSeconds(input.now);
  const nonce = input.nonce ?? newNonce();
  const message = requestMessage(input.method, input.pathWithQuery, timestamp, nonce, input.body);
  const signature = signMessage(message, input.privateKey);
  return (
    `${AUTHORIZATION_SCHEME} mchid="${input.mchid}",nonce_str="${nonce}",signature="${signature}",` +
    `timestamp="${timestamp}",serial_no="${input.serialNo}"`
  );
}
