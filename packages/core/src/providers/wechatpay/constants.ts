// Protocol constants and the stable error codes of the WeChat Pay APIv3 core (callers branch on these codes).

export const SIGNATURE_TYPE = 'WECHATPAY2-SHA256-RSA2048';
export const AUTHORIZATION_SCHEME = 'WECHATPAY2-SHA256-RSA2048';
export const RESOURCE_ALGORITHM = 'AEAD_AES_256_GCM';

/** WeChat sends deliberately broken signatures with this prefix to check that merchants verify. */
export const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';

/** Replay window from the protocol: reject when |now − timestamp| > 300 s. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export const HEADERS = {
  timestamp: 'wechatpay-timestamp',
  nonce: 'wechatpay-nonce',
  signature: 'wechatpay-signature',
  serial: 'wechatpay-serial',
  signatureType: 'wechatpay-signature-type',
} as const;

/**
 * Stable error codes. Statuses (VerificationError.status): 400 = the request is malformed (cannot even be
 * checked), 401 = it is well-formed but not authentic/fresh, 413 = the body exceeds the configured maximum.
 * WeChat treats every non-2xx as failure and retries, so the split only serves our metrics and logs.
 */
export const WECHATPAY_CODES = {
  // VerificationError — notification/response signature (verify.ts)
  headerMissing: 'WECHATPAY_HEADER_MISSING', // 400
  headerMalformed: 'WECHATPAY_HEADER_MALFORMED', // 400
  signatureType: 'WECHATPAY_SIGNATURE_TYPE', // 400
  timestampInvalid: 'WECHATPAY_TIMESTAMP_INVALID', // 400
  timestampOutOfWindow: 'WECHATPAY_TIMESTAMP_OUT_OF_WINDOW', // 401
  unknownSerial: 'WECHATPAY_UNKNOWN_SERIAL', // 401
  signatureMalformed: 'WECHATPAY_SIGNATURE_MALFORMED', // 401
  signatureMismatch: 'WECHATPAY_SIGNATURE_MISMATCH', // 401
  signtest: 'WECHATPAY_SIGNTEST', // 401, a probe: count separately, never page
  // VerificationError — body checks at ingress (body.ts)
  bodyTooLarge: 'WECHATPAY_BODY_TOO_LARGE', // 413
  bodyNotJson: 'WECHATPAY_BODY_NOT_JSON', // 400
  bodyInvalid: 'WECHATPAY_BODY_INVALID', // 400
  // VerificationError — Authorization header of merchant API requests (authorization.ts, sandbox side)
  authorizationMissing: 'WECHATPAY_AUTHORIZATION_MISSING', // 401
  authorizationMalformed: 'WECHATPAY_AUTHORIZATION_MALFORMED', // 400
  authorizationMchid: 'WECHATPAY_AUTHORIZATION_MCHID', // 401
  // DecryptError (decrypt.ts)
  decryptInput: 'WECHATPAY_DECRYPT_INPUT',
  decryptFailed: 'WECHATPAY_DECRYPT_FAILED',
  // NormalizeError (open.ts, normalize.ts)
  notificationInvalid: 'WECHATPAY_NOTIFICATION_INVALID',
  resourceNotJson: 'WECHATPAY_RESOURCE_NOT_JSON',
  resourceInvalid: 'WECHATPAY_RESOURCE_INVALID',
  merchantMismatch: 'WECHATPAY_MERCHANT_MISMATCH',
  // ConfigError (merchants.ts, and bad arguments to the pure functions)
  config: 'WECHATPAY_CONFIG',
  apiv3Key: 'WECHATPAY_APIV3_KEY',
  argument: 'WECHATPAY_ARGUMENT',
} as const;

export type WechatpayCode = (typeof WECHATPAY_CODES)[keyof typeof WECHATPAY_CODES];
