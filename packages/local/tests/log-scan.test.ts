// Scans the local stack's log file after a full mix of traffic (genuine, duplicate, forged and probe callbacks of
// both providers, one poison message per provider that ends in the DLQ, an amount anomaly): every line is a JSON
// log record, the failures are in it (so the scan reads real logs), and no secret or payer identifier is.
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildStripeScenario, prng, randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  planStripeDeliveries,
  sendDeliveries,
  signStripePayload,
} from '@payhooks/testkit/sandbox/stripe-sender';
import {
  generateSandboxMerchants,
  randomApiv3Key,
  type SandboxMerchants,
  writeMerchantsFile,
} from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { buildWechatpayScenario, type WechatpayScenario } from '@payhooks/testkit/sandbox/wechatpay-scenario';
import {
  encodeNotification,
  planWechatpayDeliveries,
  sendWechatpayDeliveries,
  signNotification,
} from '@payhooks/testkit/sandbox/wechatpay-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../src/stack.ts';
import { expectDeadLetters } from './helpers/dead-letters.ts';

const stripeSecrets = [randomWebhookSecret(), randomWebhookSecret()] as const;
const STRIPE_POISON = 'evt_1PoisonUnknownPiStatus';
const WECHAT_POISON = 'EV-poison-wrong-apiv3-key';

let db: TestDatabase;
let stack: LocalStack;
let sandbox: SandboxMerchants;
let wechat: WechatpayScenario;
let stripeEmails: string[];
let log: string;
const statuses: { what: string; status: number; expected: number }[] = [];

beforeAll(async () => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-logscan-'));
  [db, sandbox] = await Promise.all([createTestDatabase(), generateSandboxMerchants()]);
  stack = await startLocalStack({
    stateDir,
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: [...stripeSecrets],
    wechatpayMerchantsFile: await writeMerchantsFile(
      path.join(stateDir, 'wechatpay', 'merchants.json'),
      sandbox.document,
    ),
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 2,
    consumerConcurrency: 2,
    logLevel: 'debug', // the most the stack ever writes
  });
  const now = Math.floor(Date.now() / 1000);

  // Stripe: a scenario with duplicates, a rotated secret and forgeries; then a poison event.
  const stripe = buildStripeScenario({ seed: 31, payments: 12 });
  stripeEmails = [
    ...new Set(
      stripe.events
        .map((e) => e.data.object.email)
        .filter((email): email is string => typeof email === 'string'),
    ),
  ];
  const stripeResults = await sendDeliveries(
    stack.gatewayUrl,
    planStripeDeliveries(stripe, {
      secrets: stripeSecrets,
      random: prng(2),
      duplicateRate: 0.3,
      forgeries: true,
      now,
    }),
    6,
  );
  for (const r of stripeResults)
    statuses.push({
      what: `stripe ${r.kind} ${r.eventId}`,
      status: r.status,
      expected: r.kind === 'forged-oversize' ? 413 : r.kind.startsWith('forged') ? 400 : 200,
    });
  const template = stripe.events.find((e) => e.type === 'payment_intent.created')!;
  const poison = JSON.stringify(
    { ...template, id: STRIPE_POISON, data: { object: { ...template.data.object, status: 'levitating' } } },
    null,
    2,
  );
  const poisonResponse = await fetch(`${stack.gatewayUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': signStripePayload(poison, [stripeSecrets[0]], now),
    },
    body: poison,
  });
  statuses.push({ what: 'stripe poison', status: poisonResponse.status, expected: 200 });

  // WeChat Pay: a scenario with duplicates, forgeries and a probe, merchant orders with one amount mismatch;
  // then a notification encrypted under a wrong APIv3 key (ingress cannot tell; the consumer must fail it).
  wechat = buildWechatpayScenario({ seed: 17, payments: 12, merchants: sandbox.merchants });
  for (const order of wechat.merchantOrders) {
    await stack.sql`insert into merchant_orders (provider, merchant_order_no, amount_minor, currency)
      values ('wechatpay', ${order.merchantOrderNo}, ${order.amountMinor.toString()}, ${order.currency})`;
  }
  const wechatResults = await sendWechatpayDeliveries(
    stack.gatewayUrl,
    planWechatpayDeliveries(wechat, {
      merchants: sandbox.merchants,
      random: prng(4),
      duplicateRate: 0.3,
      forgeries: true,
      now,
    }),
    6,
  );
  for (const r of wechatResults)
    statuses.push({ what: `wechatpay ${r.kind} ${r.eventId}`, status: r.status, expected: r.expectedStatus });
  const merchant = sandbox.merchants[1]!;
  const spec = { ...wechat.notifications.find((n) => n.merchantId === merchant.id)!, id: WECHAT_POISON };
  const body = encodeNotification(spec, randomApiv3Key());
  const [wechatPoison] = await sendWechatpayDeliveries(stack.gatewayUrl, [
    {
      kind: 'genuine',
      eventId: WECHAT_POISON,
      path: `/webhooks/wechatpay/${merchant.id}`,
      body,
      headers: signNotification(body, merchant.keys[0], now),
      expectedStatus: 204,
    },
  ]);
  statuses.push({ what: 'wechatpay poison', status: wechatPoison!.status, expected: 204 });

  await stack.drain();
  log = await readFile(stack.logFile, 'utf8');
});

afterAll(async () => {
  await stack?.stop();
  await db?.drop();
});

/** The base64 body of a PEM private key: its full interior lines and a long slice across them. */
function pemMaterial(pem: string): string[] {
  const body = pem.split('\n').filter((line) => line && !line.startsWith('-----'));
  const joined = body.join('');
  const middle = Math.floor(joined.length / 2);
  return [joined.slice(middle - 40, middle + 40), ...body.slice(2, -2)];
}

describe('log scan after a full mix of traffic', () => {
  it('ran the traffic it meant to: every status as expected, both poison messages in the DLQ, an anomaly', async () => {
    expect(statuses.filter((s) => s.status !== s.expected)).toEqual([]);
    expect(statuses.some((s) => s.what.startsWith('wechatpay probe'))).toBe(true);
    expect(stack.metrics.ingress.total('CallbackProbe')).toBe(1);
    expect(stack.metrics.consumer.total('PaymentAnomaly')).toBeGreaterThanOrEqual(1);
    await expectDeadLetters(stack, [STRIPE_POISON, WECHAT_POISON]);
  });

  it('is JSON lines, each with level, time and message', () => {
    const lines = log.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(50);
    expect(log.endsWith('\n')).toBe(true);
    for (const line of lines) {
      const record = JSON.parse(line) as Record<string, unknown>;
      expect(record, line).toMatchObject({
        level: expect.stringMatching(/^(debug|info|warn|error|fatal)$/),
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        message: expect.any(String),
      });
    }
  });

  it('holds the failures: the poison event ids, rejections, the probe and the anomaly', () => {
    expect(log).toContain(STRIPE_POISON);
    expect(log).toContain(WECHAT_POISON);
    const records = log
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const messages = new Set(records.map((r) => r.message));
    expect(messages).toContain('wechatpay callback rejected');
    expect(messages).toContain('wechatpay signature probe answered as failure');
    expect(messages).toContain('payment differs from the merchant order');
    const failed = records.filter(
      (r) => r.level === 'error' && (r.eventId === STRIPE_POISON || r.eventId === WECHAT_POISON),
    );
    expect(new Set(failed.map((r) => r.eventId))).toEqual(new Set([STRIPE_POISON, WECHAT_POISON]));
  });

  it('holds no Stripe webhook secret, whole or without its whsec_ prefix', () => {
    for (const secret of stripeSecrets) {
      expect(log).not.toContain(secret);
      expect(log).not.toContain(secret.slice('whsec_'.length));
    }
  });

  it('holds no APIv3 key', () => {
    const keys = sandbox.merchants.map((m) => m.apiv3Key);
    expect(keys).toEqual(sandbox.document.merchants.map((m) => m.apiv3Key));
    for (const key of keys) expect(log).not.toContain(key);
  });

  it('holds no private key material: neither WeChat Pay signing keys nor the merchant private keys', () => {
    const pems = [
      ...sandbox.merchants.flatMap((m) =>
        m.keys.map((k) => k.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
      ),
      ...sandbox.document.merchants.map((m) => m.privateKey),
    ];
    expect(pems.length).toBe(6);
    for (const pem of pems) {
      for (const fragment of pemMaterial(pem)) {
        expect(fragment.length).toBeGreaterThanOrEqual(60);
        expect(log).not.toContain(fragment);
      }
    }
    expect(log).not.toContain(`PRIVATE${' '}KEY`);
  });

  it('holds no payer identifier: no WeChat openid, no Stripe customer email', () => {
    const openids = wechat.notifications
      .map((n) => (n.resource.payer as { openid?: string } | undefined)?.openid)
      .filter((id): id is string => typeof id === 'string');
    expect(openids.length).toBeGreaterThan(5);
    expect(stripeEmails.length).toBeGreaterThan(5);
    for (const id of [...new Set(openids)]) expect(log).not.toContain(id);
    for (const email of stripeEmails) expect(log).not.toContain(email);
  });
});
