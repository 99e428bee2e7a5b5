// Verifies a Stripe webhook on the raw bytes with node:crypto, against every configured endpoint secret
// (rotation: Stripe signs with old and new secret while a secret is rolled). A pure function of
// (bytes, header, secrets, now): the clock is passed in and the tolerance is explicit, both ways (stripe-node's
// check never rejects timestamps from the future).
//
// The documented scheme (https://docs.stripe.com/webhooks/signature): `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`,
// v1 = HMAC-SHA256(secret, `${t}.${raw body}`), compared in constant time. One HMAC per secret over the received
// bytes and one JSON.parse per callback: stripe-node's constructEvent decodes, hashes and parses on its own, and
// loading the package costs the webhook's cold start more than all the rest of its code (bench case 4). Header
// parsing keeps stripe-node's semantics (only exact `t` and `v1` keys count) so the same headers are accepted as
// before; the known-answer tests check against stripe-node's own signer.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { VerificationError } from '../../errors.ts';
import { receivedBody, receivedByteLength } from '../../received-body.ts';

export interface StripeVerifyInput {
  /** The received bytes, or the text standing for their UTF-8 encoding (API Gateway's text body). */
  rawBody: Uint8Array | string;
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
const TIMESTAMP = /^\d{1,12}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const EVENT_ID = /^evt_[A-Za-z0-9_]{1,250}$/;
const ACCOUNT_ID = /^acct_[A-Za-z0-9]{1,64}$/;
// stripe-node ignores a secret that is empty or only whitespace: it verifies nothing.
const BLANK = /^[ \t\r\n\f\v]*$/;

function reject(code: string, message: string): never {
  throw new VerificationError(code, message, 400);
}

interface SignatureHeader {
  timestamp: number;
  /** The signed prefix `${t}.` as stripe-node builds it (t from the exact `t` key), or undefined if none. */
  signedPrefix: string | undefined;
  /** The exact `v1=` values that are 64 lower-case hex digits, decoded; others can never match. */
  signatures: Buffer[];
}

// What Stripe sends: one timestamp, one v1 signature, nothing else. Parsed by the general loop below, it gives
// exactly this timestamp, prefix and signature; matched whole, it costs no split, slices or trims.
const USUAL_HEADER = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/;

function parseSignatureHeader(header: string): SignatureHeader {
  const usual = USUAL_HEADER.exec(header);
  if (usual) {
    const timestamp = Number(usual[1]);
    return { timestamp, signedPrefix: `${timestamp}.`, signatures: [Buffer.from(usual[2]!, 'hex')] };
  }
  let timestamp: number | undefined;
  let signedPrefix: string | undefined;
  let hasV1 = false;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      reject('STRIPE_SIGNATURE_MALFORMED', 'Stripe-Signature header is not a list of key=value pairs');
    const rawKey = part.slice(0, eq);
    const key = rawKey.trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      // Two timestamps (e.g. two Stripe-Signature headers joined by a proxy) are ambiguous: refuse them.
      if (timestamp !== undefined)
        reject('STRIPE_SIGNATURE_MALFORMED', 'Stripe-Signature header has more than one timestamp');
      if (!TIMESTAMP.test(value))
        reject('STRIPE_SIGNATURE_MALFORMED', 'Stripe-Signature timestamp is not a number');
      timestamp = Number(value);
      // stripe-node signs `${parseInt(t)}.` and reads only the exact key `t`; ` t` never verified.
      if (rawKey === 't') signedPrefix = `${timestamp}.`;
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(value))
        reject('STRIPE_SIGNATURE_MALFORMED', 'Stripe-Signature v1 is not a hex SHA-256');
      hasV1 = true;
      // stripe-node compares the untrimmed value of the exact key `v1`: padded values never matched.
      const exact = part.slice(eq + 1);
      if (rawKey === 'v1' && exact === value) signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamp === undefined)
    reject('STRIPE_SIGNATURE_MALFORMED', 'Stripe-Signature header has no timestamp (t=)');
  if (!hasV1) reject('STRIPE_SIGNATURE_MALFORMED', 'Stripe-Signature header has no v1 signature');
  return { timestamp, signedPrefix, signatures };
}

/** True when HMAC-SHA256(secret, prefix + body) equals one of the signatures (constant time per comparison). */
function signedWith(
  secret: string,
  prefix: string,
  body: Uint8Array | string,
  signatures: readonly Buffer[],
): boolean {
  const expected = createHmac('sha256', secret).update(prefix).update(body).digest();
  let found = false;
  // Every signature is compared, so the time does not depend on which one matched.
  for (const signature of signatures) if (timingSafeEqual(expected, signature)) found = true;
  return found;
}

export function verifyStripeWebhook(input: StripeVerifyInput): VerifiedStripeEvent {
  const { signatureHeader, secrets, toleranceSeconds, now } = input;
  if (secrets.length === 0)
    throw new VerificationError('STRIPE_NO_SECRET', 'no Stripe webhook secret is configured', 500);
  // Bounded before anything scans the body. A UTF-16 code unit is at most 3 UTF-8 bytes: most text bodies are
  // within the limit without counting (a lone surrogate counts 3, as its U+FFFD encoding).
  const max = input.maxBodyBytes;
  const received = input.rawBody;
  if (
    typeof received === 'string'
      ? received.length * 3 > max && receivedByteLength(received) > max
      : received.byteLength > max
  ) {
    // 413, as WeChat Pay's path answers: the one size refusal both providers share (MAX_BODY_BYTES).
    throw new VerificationError(
      'BODY_TOO_LARGE',
      `body of ${receivedByteLength(received)} bytes exceeds the limit of ${max}`,
      413,
    );
  }
  // Text stays text when it is exactly what its UTF-8 encoding decodes to (no encode, no decode below).
  const rawBody = receivedBody(received);
  const isText = typeof rawBody === 'string';
  if (rawBody.length === 0) reject('BODY_EMPTY', 'empty body');
  // Stripe never sends a byte-order mark; a decoder that drops it would make the stored text differ from the
  // signed bytes. (U+FEFF is exactly the text whose UTF-8 encoding is EF BB BF.)
  if (
    isText
      ? rawBody.charCodeAt(0) === 0xfeff
      : rawBody[0] === 0xef && rawBody[1] === 0xbb && rawBody[2] === 0xbf
  )
    reject('BODY_HAS_BOM', 'body starts with a byte-order mark');
  if (!signatureHeader) reject('STRIPE_SIGNATURE_MISSING', 'missing Stripe-Signature header');

  const header = parseSignatureHeader(signatureHeader);
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (Math.abs(nowSeconds - header.timestamp) > toleranceSeconds) {
    reject(
      'STRIPE_TIMESTAMP_OUT_OF_TOLERANCE',
      `signature timestamp is more than ${toleranceSeconds}s from now`,
    );
  }

  let text: string;
  try {
    text = isText ? rawBody : utf8.decode(rawBody);
  } catch {
    reject('BODY_NOT_UTF8', 'body is not valid UTF-8');
  }

  // The strictly decoded text is exactly the signed bytes (BOM refused, invalid UTF-8 refused): the HMAC runs
  // over the bytes (a text body's UTF-8 encoding, which Hmac.update writes itself), the text is what the
  // envelope carries.
  const { signedPrefix, signatures } = header;
  if (signedPrefix !== undefined && signatures.length > 0) {
    for (let secretIndex = 0; secretIndex < secrets.length; secretIndex++) {
      const secret = secrets[secretIndex]!;
      if (BLANK.test(secret)) continue;
      if (!signedWith(secret, signedPrefix, rawBody, signatures)) continue;
      let event: unknown;
      try {
        event = JSON.parse(text);
      } catch {
        reject('BODY_NOT_JSON', 'signed body is not JSON');
      }
      return describeEvent(event, secretIndex, text);
    }
  }
  reject('STRIPE_SIGNATURE_MISMATCH', 'no v1 signature matches any configured endpoint secret');
}

function describeEvent(event: unknown, secretIndex: number, rawBody: string): VerifiedStripeEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    reject('NOT_AN_EVENT', 'body is not a Stripe event object');
  const e = event as Record<string, unknown>;
  // A thin event notification (API v2) carries no snapshot to apply (stripe-node's constructEvent refuses it).
  if (e.object === 'v2.core.event')
    reject('NOT_AN_EVENT', 'thin event notifications (v2.core.event) are not accepted on this endpoint');
  if (typeof e.id !== 'string' || !EVENT_ID.test(e.id))
    reject('NOT_AN_EVENT', 'event id missing or not evt_…');
  if (typeof e.type !== 'string' || e.type.length === 0 || e.type.length > 255)
    reject('NOT_AN_EVENT', 'event type missing');
  if (typeof e.created !== 'number' || !Number.isSafeInteger(e.created) || e.created < 0) {
    reject('NOT_AN_EVENT', 'event created is not a unix timestamp');
  }
  if (
    e.account !== undefined &&
    e.account !== null &&
    (typeof e.account !== 'string' || !ACCOUNT_ID.test(e.account))
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
