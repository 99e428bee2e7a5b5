// The one log line each webhook writes per callback (the hand-written JSON logger, core/logger.ts), read from
// the real handlers: it names the event by ids only. No endpoint secret, APIv3 key, signature, ciphertext,
// customer or payer data may reach it, whether the callback is accepted or rejected.
import { createLogger } from '@payhooks/core/logger';
import type { Queue } from '@payhooks/core/ports';
import { prng, randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { signStripePayload } from '@payhooks/testkit/sandbox/stripe-sender';
import {
  generateSandboxMerchants,
  type SandboxMerchants,
} from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { WechatpayHistory } from '@payhooks/testkit/sandbox/wechatpay-scenario';
import { encodeNotification, signNotification } from '@payhooks/testkit/sandbox/wechatpay-sender';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../src/adapters/metrics.ts';
import { createStripeWebhookHandler } from '../src/stripe-webhook.ts';
import { createWechatpayWebhookHandler } from '../src/wechatpay-webhook.ts';

const nowSeconds = () => Math.floor(Date.now() / 1000);

function capturingLogger() {
  const lines: string[] = [];
  return {
    lines,
    logger: createLogger({ name: 'test', destination: { write: (l: string) => lines.push(l) } }),
  };
}

const queue: Queue = { send: async () => ({ messageId: 'm-1' }) };

function apiEvent(path: string, body: string, headers: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-log-1' },
  } as unknown as APIGatewayProxyEventV2;
}

describe('the Stripe webhook log line', () => {
  const secret = randomWebhookSecret();
  const email = 'jane.payer@example.com';
  const body = JSON.stringify({
    id: 'evt_1LogLine',
    object: 'event',
    type: 'charge.succeeded',
    created: nowSeconds(),
    data: { object: { object: 'charge', billing_details: { email, name: 'Jane Payer' }, amount: 4242 } },
  });
  const handlerWith = (logger: ReturnType<typeof capturingLogger>['logger']) =>
    createStripeWebhookHandler(
      { QUEUE_URL: 'http://127.0.0.1:9/unused', STRIPE_WEBHOOK_SECRETS: secret },
      { logger, queue, metrics: new MemoryMetrics() },
    );

  it('accepted: one JSON line with the ids, nothing of the body, the secret or the signature', async () => {
    const { lines, logger } = capturingLogger();
    const signature = signStripePayload(body, [secret], nowSeconds());
    const result = await handlerWith(logger)(
      apiEvent('/webhooks/stripe', body, { 'stripe-signature': signature }),
    );
    expect(result.statusCode).toBe(200);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({
      level: 'info',
      name: 'test',
      message: 'stripe callback enqueued',
      provider: 'stripe',
      eventId: 'evt_1LogLine',
      eventType: 'charge.succeeded',
      requestId: 'req-log-1',
      messageId: 'm-1',
      secretIndex: 0,
    });
    for (const leak of [secret, secret.slice(6), signature, email, 'Jane Payer', '4242', 'billing_details'])
      expect(lines[0]).not.toContain(leak);
  });

  it('rejected: the line names the reason, never the secret or the signature it was given', async () => {
    const { lines, logger } = capturingLogger();
    const forged = signStripePayload(body, [randomWebhookSecret()], nowSeconds());
    const result = await handlerWith(logger)(
      apiEvent('/webhooks/stripe', body, { 'stripe-signature': forged }),
    );
    expect(result.statusCode).toBe(400);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', reason: 'STRIPE_SIGNATURE_MISMATCH' });
    for (const leak of [secret, secret.slice(6), forged, email]) expect(lines[0]).not.toContain(leak);
  });
});

describe('the WeChat Pay webhook log line', () => {
  let sandbox: SandboxMerchants;
  beforeAll(async () => {
    sandbox = await generateSandboxMerchants();
  });

  it('accepted or rejected: ids only, no APIv3 key, ciphertext, signature or payer data', async () => {
    const merchant = sandbox.merchants[0]!;
    const history = new WechatpayHistory(prng(3));
    history.payment(merchant, 'ORDER-LOG-1', nowSeconds() - 60, { amountMinor: 9876 });
    const spec = history.notifications[0]!;
    const body = encodeNotification(spec, merchant.apiv3Key);
    const { resource } = JSON.parse(body) as { resource: { ciphertext: string; nonce: string } };
    const { lines, logger } = capturingLogger();
    const handler = createWechatpayWebhookHandler(
      { QUEUE_URL: 'http://127.0.0.1:9/unused', WECHATPAY_MERCHANTS: JSON.stringify(sandbox.document) },
      { logger, queue, metrics: new MemoryMetrics() },
    );
    const headers = signNotification(body, merchant.keys[0]!, nowSeconds());
    const path = `/webhooks/wechatpay/${merchant.id}`;
    const accepted = await handler({
      ...apiEvent(path, body, headers),
      pathParameters: { merchant: merchant.id },
    });
    expect(accepted.statusCode).toBe(204);
    const tampered = body.replace(
      resource.ciphertext,
      resource.ciphertext.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
    );
    const rejected = await handler({
      ...apiEvent(path, tampered, headers),
      pathParameters: { merchant: merchant.id },
    });
    expect(rejected.statusCode).toBe(401);

    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'info',
      message: 'wechatpay callback enqueued',
      provider: 'wechatpay',
      eventId: spec.id,
      eventType: 'TRANSACTION.SUCCESS',
      merchant: merchant.id,
      messageId: 'm-1',
    });
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'warn', provider: 'wechatpay' });
    const signature = Object.entries(headers).find(([name]) => /signature$/i.test(name))![1];
    const leaks = [
      merchant.apiv3Key,
      resource.ciphertext.slice(0, 40),
      resource.nonce,
      signature,
      'ORDER-LOG-1',
      '9876',
      'openid',
    ];
    for (const line of lines) for (const leak of leaks) expect(line).not.toContain(leak);
  });
});
