// Case 1 — ingress CPU per callback, in process: the shipped handler factories (API Gateway event → verify →
// envelope → queue port → response, with the production JSON logger writing to /dev/null and a queue that stores
// nothing) against the irreducible work on the same bytes: HMAC-SHA256 + constant-time compare (Stripe), RSA-2048
// PKCS#1 v1.5 verify with a pre-parsed KeyObject (WeChat Pay), each plus one JSON.parse of the body. Recorded
// beside it: the SQS client's own CPU per SendMessage, and the cost of one log line with each logger.
import crypto from 'node:crypto';
import { serializeIngressEnvelope } from '@payhooks/core/envelope';
import { systemClock } from '@payhooks/core/ports';
import { verifyStripeWebhook } from '@payhooks/core/providers/stripe';
import { normalizeSerial, parseNotification, verifyNotification } from '@payhooks/core/providers/wechatpay';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { createStripeWebhookHandler, type HttpHandler } from '@payhooks/functions/stripe-webhook';
import { createWechatpayWebhookHandler } from '@payhooks/functions/wechatpay-webhook';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  apiEvent,
  type Callback,
  devNullLogger,
  nullQueue,
  stripeTraffic,
  wechatpayTraffic,
} from '../fixtures.ts';
import { measureEmfCost } from '../ingress/emf-cost.ts';
import { measureLogLineCost } from '../ingress/log-line-cost.ts';
import { measureSqsSendCpu } from '../ingress/sqs-send-cpu.ts';
import { pick } from '../sizes.ts';
import { median, now, pairedRow, ratioAtLeast } from '../stats.ts';
import type { CaseOptions, CaseResult } from '../types.ts';

export interface Side {
  run(i: number): unknown;
}

async function measure(count: number, side: Side): Promise<number> {
  const start = now();
  for (let i = 0; i < count; i++) await side.run(i);
  return count / ((now() - start) / 1000);
}

async function pairs(options: { count: number; reps: number; measured: Side; baseline: Side }) {
  const { count, reps, measured, baseline } = options;
  // Warm-up: JIT, key caches and the handler's once() setup happen before any timed repetition.
  await measure(Math.max(20, Math.floor(count / 4)), measured);
  await measure(Math.max(20, Math.floor(count / 4)), baseline);
  const out: { measured: number; baseline: number }[] = [];
  for (let r = 0; r < reps; r++) {
    // Alternate which side runs first so a slow phase of the shared machine does not always hit one side.
    if (r % 2 === 0) {
      const m = await measure(count, measured);
      const b = await measure(count, baseline);
      out.push({ measured: m, baseline: b });
    } else {
      const b = await measure(count, baseline);
      const m = await measure(count, measured);
      out.push({ measured: m, baseline: b });
    }
  }
  return out;
}

function handlerSide(handler: HttpHandler, events: APIGatewayProxyEventV2[], expected: number): Side {
  return {
    async run(i) {
      const result = await handler(events[i % events.length]!);
      if (result.statusCode !== expected)
        throw new Error(`handler answered ${result.statusCode}: ${result.body}`);
    },
  };
}

/** Case 1's Stripe baseline (also ingress-ab.ts's): HMAC-SHA256 + constant-time compare, then one JSON.parse. */
export function stripeBaseline(secret: string, callbacks: Callback[], parse = true): Side {
  const parsed = callbacks.map((c) => {
    const header = c.headers['stripe-signature']!;
    const t = /t=(\d+)/.exec(header)![1]!;
    const v1 = Buffer.from(/v1=([0-9a-f]{64})/.exec(header)![1]!, 'hex');
    return { payload: Buffer.from(`${t}.${c.body}`, 'utf8'), v1, body: c.body };
  });
  return {
    run(i) {
      const { payload, v1, body } = parsed[i % parsed.length]!;
      const mac = crypto.createHmac('sha256', secret).update(payload).digest();
      if (!crypto.timingSafeEqual(mac, v1)) throw new Error('baseline HMAC mismatch');
      if (parse) return JSON.parse(body);
    },
  };
}

/** Case 1's WeChat Pay baseline (also ingress-ab.ts's): RSA verify with a pre-parsed key, then one JSON.parse. */
export function wechatpayBaseline(
  callbacks: Callback[],
  keys: ReadonlyMap<string, crypto.KeyObject>,
  parse = true,
): Side {
  const parsed = callbacks.map((c) => {
    const h = c.headers;
    return {
      message: Buffer.from(`${h['wechatpay-timestamp']}\n${h['wechatpay-nonce']}\n${c.body}\n`, 'utf8'),
      signature: Buffer.from(h['wechatpay-signature']!, 'base64'),
      key: keys.get(normalizeSerial(h['wechatpay-serial']!))!,
      body: c.body,
    };
  });
  return {
    run(i) {
      const { message, signature, key, body } = parsed[i % parsed.length]!;
      if (!crypto.verify('RSA-SHA256', message, key, signature))
        throw new Error('baseline RSA verify failed');
      if (parse) return JSON.parse(body);
    },
  };
}

export async function runIngressCpu(options: CaseOptions): Promise<CaseResult> {
  const started = now();
  const size = pick(options, {
    // Many short paired turns, not a few long ones: a turn of either side lasts ≈ 5–20 ms, so a slow phase of a
    // shared machine rarely lands on one side only, and the ratio is the median of the turns' ratios.
    full: {
      stripe: 1000,
      wechatpay: 400,
      reps: 28,
      sideReps: 7,
      distinct: 400,
      logLines: 20000,
      sqsSends: 2000,
    },
    quick: {
      stripe: 500,
      wechatpay: 200,
      reps: 14,
      sideReps: 5,
      distinct: 200,
      logLines: 5000,
      sqsSends: 600,
    },
    tiny: { stripe: 40, wechatpay: 20, reps: 2, sideReps: 2, distinct: 20, logLines: 100, sqsSends: 20 },
  });
  const logger = devNullLogger('bench-ingress');
  const deps = { queue: nullQueue(), logger, metrics: new MemoryMetrics(), clock: systemClock };

  options.log('case 1: generating signed Stripe events');
  const stripe = stripeTraffic(size.distinct);
  const stripeHandler = createStripeWebhookHandler(
    { STRIPE_WEBHOOK_SECRETS: stripe.secret, QUEUE_URL: 'http://127.0.0.1:9/unused' },
    deps,
  );
  const stripePairs = await pairs({
    count: size.stripe,
    reps: size.reps,
    measured: handlerSide(stripeHandler, stripe.callbacks.map(apiEvent), 200),
    baseline: stripeBaseline(stripe.secret, stripe.callbacks),
  });

  options.log('case 1: generating signed WeChat Pay notifications');
  const wechat = await wechatpayTraffic(size.distinct);
  const wechatHandler = createWechatpayWebhookHandler(
    { WECHATPAY_MERCHANTS: wechat.merchantsJson, QUEUE_URL: 'http://127.0.0.1:9/unused' },
    deps,
  );
  const keys = new Map<string, crypto.KeyObject>();
  for (const merchant of wechat.registry.merchants)
    for (const [serial, key] of merchant.verificationKeys) keys.set(serial, key);
  const wechatPairs = await pairs({
    count: size.wechatpay,
    reps: size.reps,
    measured: handlerSide(wechatHandler, wechat.callbacks.map(apiEvent), 204),
    baseline: wechatpayBaseline(wechat.callbacks, keys),
  });

  // Where the time goes: the pieces of the handler path timed alone, in microseconds per callback.
  const usPer = async (count: number, fn: (i: number) => unknown) => {
    const rates = [];
    for (let r = 0; r < 3; r++) rates.push(await measure(count, { run: fn }));
    return 1e6 / median(rates);
  };
  const stripeBodies = stripe.callbacks.map((c) => Buffer.from(c.body, 'utf8'));
  const wechatBodies = wechat.callbacks.map((c) => Buffer.from(c.body, 'utf8'));
  const envelopeOf = (provider: 'stripe' | 'wechatpay', body: string) => ({
    v: 1 as const,
    provider,
    eventId: 'evt_bench',
    eventType: 'payment_intent.succeeded',
    account: '',
    occurredAt: new Date().toISOString(),
    receivedAt: new Date().toISOString(),
    rawBody: body,
  });
  const n = stripe.callbacks.length;
  const hmacOnly = stripeBaseline(stripe.secret, stripe.callbacks, false);
  const rsaOnly = wechatpayBaseline(wechat.callbacks, keys, false);
  const whereTheTimeGoes = {
    unit: 'µs per callback (median of 3 passes)',
    stripe: {
      rawHmac: await usPer(size.stripe, (i) => hmacOnly.run(i)),
      verifyStripeWebhook: await usPer(size.stripe, (i) =>
        verifyStripeWebhook({
          rawBody: stripeBodies[i % n]!,
          signatureHeader: stripe.callbacks[i % n]!.headers['stripe-signature'],
          secrets: [stripe.secret],
          toleranceSeconds: 300,
          now: new Date(),
          maxBodyBytes: 262_144,
        }),
      ),
      jsonParse: await usPer(size.stripe, (i) => JSON.parse(stripe.callbacks[i % n]!.body)),
      serializeIngressEnvelope: await usPer(size.stripe, (i) =>
        serializeIngressEnvelope(envelopeOf('stripe', stripe.callbacks[i % n]!.body)),
      ),
      wholeHandler: 1e6 / median(stripePairs.map((p) => p.measured)),
    },
    wechatpay: {
      rawRsaVerify: await usPer(size.wechatpay, (i) => rsaOnly.run(i)),
      verifyNotification: await usPer(size.wechatpay, (i) =>
        verifyNotification({
          rawBody: wechatBodies[i % wechatBodies.length]!,
          headers: wechat.callbacks[i % wechatBodies.length]!.headers,
          verificationKeys: keys,
          now: new Date(),
          toleranceSeconds: 300,
        }),
      ),
      parseNotification: await usPer(size.wechatpay, (i) =>
        parseNotification(wechatBodies[i % wechatBodies.length]!, { parser: 'ingress' }),
      ),
      serializeIngressEnvelope: await usPer(size.wechatpay, (i) =>
        serializeIngressEnvelope(envelopeOf('wechatpay', wechat.callbacks[i % wechatBodies.length]!.body)),
      ),
      wholeHandler: 1e6 / median(wechatPairs.map((p) => p.measured)),
    },
  };

  options.log('case 1: one log line with each logger');
  const logLine = await measureLogLineCost({ count: size.logLines, reps: size.sideReps });
  options.log('case 1: one EMF document per count, shipped and built whole');
  const emf = measureEmfCost({ count: size.logLines, reps: size.sideReps });
  options.log('case 1: SQS client CPU per SendMessage (endpoint in another process)');
  const sqs = await measureSqsSendCpu({
    count: size.sqsSends,
    reps: size.sideReps,
    bodies: stripe.callbacks.slice(0, 50).map((c) => c.body),
  });

  const meanBytes = (callbacks: Callback[]) =>
    Math.round(callbacks.reduce((sum, c) => sum + Buffer.byteLength(c.body), 0) / callbacks.length);
  return {
    case: 1,
    title: 'Ingress CPU per callback (in process)',
    measuredIncludes:
      'handler(event) of createStripeWebhookHandler / createWechatpayWebhookHandler: API Gateway v2 event → raw body (text as delivered), ' +
      'signature + timestamp verification (Stripe: node:crypto HMAC per secret + one JSON.parse; WeChat Pay: RSA ' +
      'verify + one JSON.parse), the envelope text, one production log line to /dev/null (the shipped destination), ' +
      'in-memory metrics, a queue port that stores nothing (no SQS). SQS row: CPU µs of this process per SendMessage ' +
      'with the shipped send-only client (baseline: a bare SigV4-signed POST on a keep-alive agent), endpoint in ' +
      "another process answering at once; lean row: the webhooks' sender (adapters/sqs-send.ts) on the same endpoint.",
    baselineIncludes:
      'the irreducible work on the same bytes: Stripe HMAC-SHA256 over "t.body" + timingSafeEqual + JSON.parse(body); ' +
      'WeChat crypto.verify(\'RSA-SHA256\') with a pre-parsed 2048-bit KeyObject over "timestamp\\nnonce\\nbody\\n" + ' +
      'JSON.parse(body).',
    rows: [
      pairedRow('1 stripe verify+envelope', 'callbacks/s', stripePairs, ratioAtLeast(0.3)),
      pairedRow('1 wechatpay verify+envelope', 'callbacks/s', wechatPairs, ratioAtLeast(0.5)),
      pairedRow(
        '1 EMF document per count (Lambda)',
        'µs',
        emf,
        null,
        'record only; shipped EmfMetrics.count / the document built whole and JSON.stringify-ed (lower is better)',
      ),
      pairedRow(
        '1 SQS client CPU per SendMessage',
        'µs CPU',
        sqs.shipped.map((shipped, r) => ({ measured: shipped, baseline: sqs.bare[r]! })),
        null,
        'record only; ratio = shipped client / bare signed request (lower is better)',
      ),
      pairedRow(
        '1 lean SendMessage CPU (webhooks)',
        'µs CPU',
        sqs.lean.map((lean, r) => ({ measured: lean, baseline: sqs.bare[r]! })),
        null,
        "record only; the webhooks' sender (SDK signer, no client) / bare signed request (lower is better)",
      ),
    ],
    details: {
      reps: size.reps,
      opsPerRep: { stripe: size.stripe, wechatpay: size.wechatpay },
      distinctCallbacks: size.distinct,
      meanBodyBytes: { stripe: meanBytes(stripe.callbacks), wechatpay: meanBytes(wechat.callbacks) },
      enqueued: deps.queue.sent,
      whereTheTimeGoes,
      logLine,
      sqsSendCpu: sqs,
    },
    durationMs: now() - started,
  };
}
