// Verifies a Stripe webhook on the raw bytes with the `stripe` package, against every configured endpoint
// secret (rotation: Stripe signs with old and new secret while a secret is rolled). A pure function of
// (bytes, header, secrets, now): the clock is passed in, and the tolerance is always explicit because the
// library's low-level check defaults to none and never rejects timestamps from the future. The library verifies
// and parses; the checks around it are the ones it does not make (size, BOM, UTF-8, duplicate t=, future t).
import Stripe from 'stripe';
import { VerificationError } from '../../errors.ts';

export interface StripeVerifyInput {
  rawBody: Uint8Array;
  signatureHeader: string | undefined;
  secrets: readonly string[];
  toleranceSeconds: number;
  now: Date;
  maxBodyBytes: number;
}

/** What ingress needs from a verified event; the body itself travels unchanged. */
export interface VerifiedStripeEvent {
  id: string;
  type: string;
  created: Date;
  account: string;
  apiVersion: string | null;
  livemode: boolean;
  /** Which configured secret matched: shows when a rotated-out secret can be removed. */
  secretIndex: number;
  rawBody: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function reject(code: string, message: string): never {
  throw new VerificationError(code, message, 400);
}

function parseTimestamp(header: string): number {
  let timestamp: number | undefined;
  let hasV1 = false;
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      reject('STRIPE_SIGNATURE_MALFORMED', 'Stripe-Signature header is not a list of key=value pairs');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      // Two timestamps (e.g. two Stripe-Signature headers joined by a proxy) are ambiguous: refuse them.
      if (timestamp !== undefined)
        reject('STRIPE_SIGNATURE_MALFORMED', 'Stripe-Signature header has more than one timestamp');
      if (!/^\d{1,12}$/.test(value))
        reject('STRIPE_SIGNATURE_MALFORMED', 'Stripe-Signature timestamp is not a number');
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(value))
        reject('STRIPE_SIGNATURE_MALFORMED', 'Stripe-Signature v1 is not a hex SHA-256');
      hasV1 = true;
    }
  }
  if (timestamp === undefined)
    reject('STRIPE_SIGNATURE_MALFORMED', 'Stripe-Signature header has no timestamp (t=)');
  if (!hasV1) reject('STRIPE_SIGNATURE_MALFORMED', 'Stripe-Signature header has no v1 signature');
  return timestamp;
}

export function verifyStripeWebhook(input: StripeVerifyInput): VerifiedStripeEvent {
  const { rawBody, signatureHeader, secrets, toleranceSeconds, now } = input;
  if (secrets.length === 0)
    throw new VerificationError('STRIPE_NO_SECRET', 'no Stripe webhook secret is configured', 500);
  if (rawBody.byteLength > input.maxBodyBytes) {
    reject(
      'BODY_TOO_LARGE',
      `body of ${rawBody.byteLength} bytes exceeds the limit of ${input.maxBodyBytes}`,
    );
  }
  if (rawBody.byteLength === 0) reject('BODY_EMPTY', 'empty body');
  // Stripe never sends a byte-order mark; stripe-node's decoder would drop it before computing the HMAC, so
  // the bytes we store would differ from the bytes that were signed.
  if (rawBody[0] === 0xef && rawBody[1] === 0xbb && rawBody[2] === 0xbf)
    reject('BODY_HAS_BOM', 'body starts with a byte-order mark');
  if (!signatureHeader) reject('STRIPE_SIGNATURE_MISSING', 'missing Stripe-Signature header');

  const timestamp = parseTimestamp(signatureHeader);
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    reject(
      'STRIPE_TIMESTAMP_OUT_OF_TOLERANCE',
      `signature timestamp is more than ${toleranceSeconds}s from now`,
    );
  }

  let text: string;
  try {
    text = utf8.decode(rawBody);
  } catch {
    reject('BODY_NOT_UTF8', 'body is not valid UTF-8');
  }

  // The strictly decoded text is exactly the signed bytes (BOM refused, invalid UTF-8 refused), so the library
  // hashes and parses it as a string: one decode and one JSON.parse per callback, none of its own.
  for (let secretIndex = 0; secretIndex < secrets.length; secretIndex++) {
    const secret = secrets[secretIndex]!;
    let event: unknown;
    try {
      event = Stripe.webhooks.constructEvent(
        text,
        signatureHeader,
        secret,
        toleranceSeconds,
        undefined,
        now.getTime(),
      );
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) continue;
      // The signature matched but the body is not JSON.
      reject('BODY_NOT_JSON', 'signed body is not JSON');
    }
    return describeEvent(event, secretIndex, text);
  }
  reject('STRIPE_SIGNATURE_MISMATCH', 'no v1 signature matches any configured endpoint secret');
}

function describeEvent(event: unknown, secretIndex: number, rawBody: string): VerifiedStripeEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    reject('NOT_AN_EVENT', 'body is not a Stripe event object');
  const e = event as Record<string, unknown>;
  if (typeof e.id !== 'string' || !/^evt_[A-Za-z0-9_]{1,250}$/.test(e.id))
    reject('NOT_AN_EVENT', 'event id missing or not evt_…');
  if (typeof e.type !== 'string' || e.type.length === 0 || e.type.length > 255)
    reject('NOT_AN_EVENT', 'event type missing');
  if (typeof e.created !== 'number' || !Number.isSafeInteger(e.created) || e.created < 0) {
    reject('NOT_AN_EVENT', 'event created is not a unix timestamp');
  }
  if (
    e.account !== undefined &&
    e.account !== null &&
    (typeof e.account !== 'string' || !/^acct_[A-Za-z0-9]{1,64}$/.test(e.account))
  ) {
    reject('NOT_AN_EVENT', 'event account is not acct_…');
  }
  return {
    id: e.id,
    type: e.type,
    created: new Date(e.created * 1000),
    account: typeof e.account === 'string' ? e.account : '',
    apiVersion: typeof e.api_version === 'string' ? e.api_version : null,
    livemode: e.livemode === true,
    secretIndex,
    rawBody,
  };
}
