// A body given as text (API Gateway's body when not base64-encoded) is verified, parsed and carried exactly as
// its UTF-8 encoding given as bytes: for any text — non-ASCII, a byte-order mark, lone surrogates, too large —
// both forms get the same answer (the same event and text, or the same error code and status).
import crypto from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VerificationError } from '../src/errors.ts';
import { receiveStripeCallback } from '../src/ingress/stripe.ts';
import type { IngressRequest } from '../src/ingress/types.ts';
import { verifyStripeWebhook } from '../src/providers/stripe/verify.ts';
import { assertBodySize, parseNotification } from '../src/providers/wechatpay/parse-notification.ts';
import { verifyNotification } from '../src/providers/wechatpay/verify.ts';

const SECRET = `whsec_${crypto.randomBytes(24).toString('base64')}`;
const NOW = new Date('2026-12-02T14:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const SERIAL = 'PUB_KEY_ID_0000000000000000000000000001';
const KEYS = new Map([[SERIAL, publicKey]]);

function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    return { code: error.code, status: error.status };
  }
}

const piece = fc.constantFrom(
  '"',
  '\\',
  '\n',
  '支付',
  '\ufeff',
  '\ud800',
  '\udc00',
  '😀',
  'a',
  '{',
  '}',
  ',',
);
const jsonish = fc.oneof(
  fc.string({ unit: piece, maxLength: 30 }),
  fc
    .record({ note: fc.string({ unit: piece, maxLength: 20 }), n: fc.integer() })
    .map(({ note, n }) =>
      JSON.stringify({ id: `evt_${Math.abs(n)}`, object: 'event', type: 'x.y', created: T, note }),
    ),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => `\ufeff${s}`),
);
const body = fc.oneof(jsonish, fc.string({ unit: 'binary', maxLength: 60 }));

function stripeHeader(bytes: Buffer): string {
  const mac = crypto.createHmac('sha256', SECRET).update(`${T}.`).update(bytes).digest('hex');
  return `t=${T},v1=${mac}`;
}

describe('a text body is its UTF-8 encoding', () => {
  it('Stripe: verifyStripeWebhook answers text as it answers the bytes (signature over the bytes)', () => {
    fc.assert(
      fc.property(body, fc.constantFrom(16, 64, 262_144), (text, maxBodyBytes) => {
        const bytes = Buffer.from(text, 'utf8');
        const input = {
          signatureHeader: stripeHeader(bytes),
          secrets: [SECRET],
          toleranceSeconds: 300,
          now: NOW,
          maxBodyBytes,
        };
        expect(outcome(() => verifyStripeWebhook({ ...input, rawBody: text }))).toEqual(
          outcome(() => verifyStripeWebhook({ ...input, rawBody: bytes })),
        );
      }),
      { numRuns: 400 },
    );
  });

  it('Stripe: the accepted event carries the same text into the envelope', async () => {
    const sent: string[] = [];
    const deps = {
      queue: {
        async send(m: string) {
          sent.push(m);
          return { messageId: `m${sent.length}` };
        },
      },
      clock: { now: () => NOW },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      metrics: { count() {} },
    };
    const config = { secrets: [SECRET], toleranceSeconds: 300, maxBodyBytes: 262_144 };
    // A raw lone surrogate in the text (JSON.stringify would have escaped it).
    const head = JSON.stringify({ id: 'evt_1', object: 'event', type: 'x.y', created: T });
    const text = `${head.slice(0, -1)},"note":"支付 \ud800"}`;
    const bytes = Buffer.from(text, 'utf8');
    const request = (b: Uint8Array | string): IngressRequest => ({
      body: b,
      headers: { 'stripe-signature': stripeHeader(bytes) },
      pathParameters: {},
      requestId: 'r',
    });
    expect((await receiveStripeCallback(request(text), config, deps)).status).toBe(200);
    expect((await receiveStripeCallback(request(bytes), config, deps)).status).toBe(200);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toBe(sent[1]);
    // The lone surrogate became U+FFFD, as the bytes say.
    expect(JSON.parse(sent[0]!).body.note).toBe('支付 \ufffd');
  });

  it('WeChat Pay: size bound, signature and parse answer text as they answer the bytes', () => {
    fc.assert(
      fc.property(body, fc.constantFrom(16, 64, 262_144), (text, maxBytes) => {
        const bytes = Buffer.from(text, 'utf8');
        const nonce = 'n0nce';
        const message = Buffer.concat([Buffer.from(`${T}\n${nonce}\n`), bytes, Buffer.from('\n')]);
        const headers = {
          'wechatpay-timestamp': String(T),
          'wechatpay-nonce': nonce,
          'wechatpay-signature': crypto.sign('RSA-SHA256', message, privateKey).toString('base64'),
          'wechatpay-serial': SERIAL,
        };
        const run = (rawBody: Uint8Array | string) =>
          outcome(() => {
            assertBodySize(rawBody, maxBytes);
            const verified = verifyNotification({ rawBody, headers, verificationKeys: KEYS, now: NOW });
            return { verified, text: parseNotification(rawBody, { parser: 'ingress' }).text };
          });
        const fromBytes = run(bytes);
        // What ingress hands on for a text body: well-formed text as it is, any other as its UTF-8 encoding.
        const wellFormed = (text as unknown as { isWellFormed(): boolean }).isWellFormed();
        expect(run(wellFormed ? text : bytes)).toEqual(fromBytes);
        // The signed message is the same bytes whichever form the body has.
        expect(
          outcome(() => verifyNotification({ rawBody: text, headers, verificationKeys: KEYS, now: NOW })),
        ).toEqual(
          outcome(() => verifyNotification({ rawBody: bytes, headers, verificationKeys: KEYS, now: NOW })),
        );
      }),
      { numRuns: 150 },
    );
  });
});
