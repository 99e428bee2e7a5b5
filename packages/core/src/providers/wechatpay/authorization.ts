// Parses and verifies the `Authorization: WECHATPAY2-SHA256-RSA2048 …` header of merchant API requests —
// what WeChat Pay does on its side; the sandbox uses it to check our outbound calls.
import crypto, { type KeyObject } from 'node:crypto';
import { ConfigError, VerificationError } from '../../errors.ts';
import { AUTHORIZATION_SCHEME, WECHATPAY_CODES as C, DEFAULT_TOLERANCE_SECONDS } from './constants.ts';
import { decodeBase64Strict } from './encoding.ts';
import { requestMessage } from './message.ts';

export interface ParsedAuthorization {
  mchid: string;
  nonceStr: string;
  signature: string;
  timestamp: string;
  serialNo: string;
}

const PARAM = /^([a-z_]+)="([^"]*)"$/;
const REQUIRED = ['mchid', 'nonce_str', 'signature', 'timestamp', 'serial_no'] as const;

function malformed(message: string): VerificationError {
  return new VerificationError(C.authorizationMalformed, `Authorization header: ${message}`, 400);
}

/** Parses the header value; parameters may come in any order, each exactly once. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization {
  if (typeof header !== 'string' || header.trim() === '') {
    throw new VerificationError(C.authorizationMissing, 'missing Authorization header', 401);
  }
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space) !== AUTHORIZATION_SCHEME) {
    throw malformed(`scheme must be ${AUTHORIZATION_SCHEME}`);
  }
  const params = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const match = PARAM.exec(part.trim());
    if (!match) throw malformed('parameters must be name="value" separated by commas');
    const [, name = '', value = ''] = match;
    if (params.has(name)) throw malformed(`parameter ${name} appears twice`);
    params.set(name, value);
  }
  for (const name of REQUIRED) {
    if (!params.get(name)) throw malformed(`parameter ${name} is missing`);
  }
  return {
    mchid: params.get('mchid')!,
    nonceStr: params.get('nonce_str')!,
    signature: params.get('signature')!,
    timestamp: params.get('timestamp')!,
    serialNo: params.get('serial_no')!,
  };
}

export interface VerifyAuthorizationInput {
  authorization: string | undefined;
  method: string;
  pathWithQuery: string;
  body: Uint8Array | string;
  /** Merchant certificate serial (serial_no, compared exactly as issued: an opaque string) → its public key. */
  merchantKeys: ReadonlyMap<string, KeyObject>;
  /** When set, the header's mchid must equal it. */
  expectedMchid?: string;
  now: Date;
  toleranceSeconds?: number;
}

/** Verifies a signed merchant API request; throws VerificationError, returns the parsed header. */
export function verifyAuthorization(input: VerifyAuthorizationInput): ParsedAuthorization {
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (
    !Number.isFinite(tolerance) ||
    tolerance < 0 ||
    !(input.now instanceof Date) ||
    Number.isNaN(input.now.getTime())
  ) {
    throw new ConfigError(C.argument, 'verifyAuthorization needs a valid now and toleranceSeconds ≥ 0');
  }
  const auth = parseAuthorization(input.authorization);
  if (input.expectedMchid !== undefined && auth.mchid !== input.expectedMchid) {
    throw new VerificationError(
      C.authorizationMchid,
      `Authorization mchid ${auth.mchid} is not the expected one`,
      401,
    );
  }
  if (!/^[0-9]{1,12}$/.test(auth.timestamp)) throw malformed('timestamp is not unix seconds');
  const skew = Math.abs(Math.floor(input.now.getTime() / 1000) - Number(auth.timestamp));
  if (skew > tolerance) {
    throw new VerificationError(C.timestampOutOfWindow, `request timestamp is ${skew}s away from now`, 401);
  }
  // Exact: WeChat Pay knows the serial it issued, so a client that drops a leading zero or changes the case of a
  // configured serial must fail here as it would there.
  const key = input.merchantKeys.get(auth.serialNo);
  if (!key)
    throw new VerificationError(C.unknownSerial, `no merchant key for serial_no ${auth.serialNo}`, 401);
  const signature = decodeBase64Strict(auth.signature);
  if (!signature)
    throw new VerificationError(C.signatureMalformed, 'Authorization signature is not base64', 401);
  const message = requestMessage(
    input.method,
    input.pathWithQuery,
    auth.timestamp,
    auth.nonceStr,
    input.body,
  );
  let valid = false;
  try {
    valid = crypto.verify('RSA-SHA256', message, key, signature);
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new VerificationError(
      C.signatureMismatch,
      'Authorization signature does not match METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY\\n',
      401,
    );
  }
  return auth;
}
