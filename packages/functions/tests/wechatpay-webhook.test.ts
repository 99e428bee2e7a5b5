// The WeChat Pay Lambda handler module on API Gateway v2 events: what it enqueues (the still-encrypted body),
// what it answers, and that every rejection leaves the queue untouched.

import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { decodeEnvelope } from '@payhooks/core/envelope';
import { createLogger } from '@payhooks/core/logger';
import type { Queue } from '@payhooks/core/ports';
import { SIGNTEST_PREFIX } from '@payhooks/core/providers/wechatpay';
import { type LocalQueues, startLocalQueues } from '@payhooks/local/sqs';
import { prng } from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  generateSandboxMerchants,
  type SandboxMerchants,
} from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { beijingTime, WechatpayHistory } from '@payhooks/testkit/sandbox/wechatpay-scenario';
import { encodeNotification, signNotification } from '@payhooks/testkit/sandbox/wechatpay-sender';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../src/adapters/metrics.ts';
import { createWechatpayWebhookHandler } from '../src/wechatpay-webhook.ts';

const logger = createLogger({ name: 'test', destination: pino.destination('/dev/null') });
let queues: LocalQueues;
let sandbox: SandboxMerchants;
let dir: string;

beforeAll(async () => {
  [queues, sandbox, dir] = await Promise.all([
    startLocalQueues({ visibilityTimeoutSeconds: 30, maxReceiveCount: 3 }),
    generateSandboxMerchants(),
    mkdtemp(path.join(os.tmpdir(), 'payhooks-wx-handler-')),
  ]);
});
afterAll(async () => {
  await queues?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A paid order's TRANSACTION.SUCCESS notification for merchant `index`, encrypted under its APIv3 key. */
function notification(index = 0, id?: string) {
  const merchant = sandbox.merchants[index]!;
  const history = new WechatpayHistory(prng(index + 1));
  history.payment(merchant, `ORDER-${index}`, nowSeconds() - 60, { amountMinor: 1234 });
  const spec = { ...history.notifications[0]!, ...(id ? { id } : {}) };
  return { merchant, spec, body: encodeNotification(spec, merchant.apiv3Key) };
}

function apiEvent(
  body: string,
  headers: Record<string, string>,
  overrides: Partial<APIGatewayProxyEventV2> = {},
) {
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/wechatpay',
    rawPath: '/webhooks/wechatpay',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1' },
    ...overrides,
  } as APIGatewayProxyEventV2;
}

/** A queue that records what it was given. */
function recordingQueue(): Queue & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    async send(body) {
      sent.push(body);
      return { messageId: `m-${sent.length}` };
    },
  };
}

function handlerWith(document: unknown = sandbox.document, queue: Queue = recordingQueue()) {
  const metrics = new MemoryMetrics();
  const handler = createWechatpayWebhookHandler(
    { QUEUE_URL: 'http://127.0.0.1:9/unused', WECHATPAY_MERCHANTS: JSON.stringify(document) },
    { logger, metrics, queue },
  );
  return { handler, metrics };
}

async function receiveAll(): Promise<string[]> {
  const received = await queues.client.send(
    new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
  );
  return (received.Messages ?? []).map((m) => m.Body!);
}

describe('wechatpay-webhook handler', () => {
  it('enqueues the verified, still-encrypted body for both key modes and answers 204 with no body', async () => {
    const metrics = new MemoryMetrics();
    const handler = createWechatpayWebhookHandler(
      {
        QUEUE_URL: queues.queueUrl,
        SQS_ENDPOINT: queues.endpoint,
        WECHATPAY_MERCHANTS: JSON.stringify(sandbox.document),
      },
      { logger, metrics },
    );
    const sent = [];
    for (const [i, key] of sandbox.merchants[0]!.keys.entries()) {
      const { spec, body, merchant } = notification(0, `EV-mode-${i}`);
      const result = await handler(
        apiEvent(body, signNotification(body, key, nowSeconds()), {
          pathParameters: { merchant: merchant.id },
        }),
      );
      expect(result.statusCode, key.mode).toBe(204);
      expect(result.body).toBe('');
      sent.push({ spec, body });
    }
    const messages = await receiveAll();
    expect(messages).toHaveLength(2);
    for (const message of messages) {
      const envelope = decodeEnvelope(message);
      const match = sent.find((s) => s.spec.id === envelope.eventId)!;
      expect(envelope).toMatchObject({
        provider: 'wechatpay',
        eventType: 'TRANSACTION.SUCCESS',
        account: 'shop',
        occurredAt: match.spec.createTime,
        rawBody: match.body,
      });
      // No payer data in plaintext on the queue.
      expect(message).not.toMatch(/openid|out_trade_no|4200/);
    }
    expect(metrics.total('CallbackAccepted')).toBe(2);
  });

  it('accepts a base64-encoded body and any header-name case, enqueuing the decoded bytes', async () => {
    const queue = recordingQueue();
    const { handler } = handlerWith(sandbox.document, queue);
    const { body } = notification(0, 'EV-base64-中文');
    const signed = signNotification(body, sandbox.merchants[0]!.keys[0], nowSeconds());
    const shouting = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toUpperCase(), v]));
    const lower = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), v]));
    for (const [headers, encoded] of [
      [signed, true],
      [shouting, false],
      [lower, true],
    ] as const) {
      const result = await handler(
        apiEvent(encoded ? Buffer.from(body).toString('base64') : body, headers, {
          isBase64Encoded: encoded,
        }),
      );
      expect(result.statusCode).toBe(204);
    }
    expect(queue.sent.map((m) => decodeEnvelope(m).rawBody)).toEqual([body, body, body]);
  });

  it('routes by path parameter, and on the bare path by the serial when several merchants are configured', async () => {
    const queue = recordingQueue();
    const { handler } = handlerWith(sandbox.document, queue);
    const a = notification(0, 'EV-route-a');
    const b = notification(1, 'EV-route-b');
    const bare = await handler(apiEvent(b.body, signNotification(b.body, b.merchant.keys[1], nowSeconds())));
    expect(bare.statusCode).toBe(204);
    const byPath = await handler(
      apiEvent(a.body, signNotification(a.body, a.merchant.keys[0], nowSeconds()), {
        pathParameters: { merchant: 'shop' },
      }),
    );
    expect(byPath.statusCode).toBe(204);
    expect(queue.sent.map((m) => decodeEnvelope(m).account)).toEqual(['kiosk', 'shop']);

    // Merchant b's key on merchant a's path: keys are per merchant.
    const crossed = await handler(
      apiEvent(b.body, signNotification(b.body, b.merchant.keys[0], nowSeconds()), {
        pathParameters: { merchant: 'shop' },
      }),
    );
    expect(crossed.statusCode).toBe(401);
    expect(JSON.parse(crossed.body as string)).toEqual({
      code: 'FAIL',
      message: expect.stringMatching(/serial/),
    });
    // An unconfigured merchant path is answered exactly as a configured merchant's callback with a serial it
    // does not list: the answer does not tell which merchant ids exist.
    const unknown = await handler(
      apiEvent(b.body, signNotification(b.body, b.merchant.keys[0], nowSeconds()), {
        pathParameters: { merchant: 'nobody' },
      }),
    );
    expect({ status: unknown.statusCode, body: unknown.body }).toEqual({
      status: crossed.statusCode,
      body: crossed.body,
    });
    expect(queue.sent).toHaveLength(2);
  });

  it('routes /webhooks/wechatpay/{mchid} like /webhooks/wechatpay/{id} (docs/deploy.md uses the mchid)', async () => {
    const queue = recordingQueue();
    const { handler } = handlerWith(sandbox.document, queue);
    for (const index of [0, 1]) {
      const { merchant, body } = notification(index, `EV-mchid-${index}`);
      expect(merchant.id).not.toBe(merchant.mchid);
      const result = await handler(
        apiEvent(
          body,
          signNotification(body, index === 0 ? merchant.keys[0] : merchant.keys[1], nowSeconds()),
          {
            routeKey: 'POST /webhooks/wechatpay/{merchant}',
            rawPath: `/webhooks/wechatpay/${merchant.mchid}`,
            pathParameters: { merchant: merchant.mchid },
          },
        ),
      );
      expect(result.statusCode, merchant.mchid).toBe(204);
    }
    // The envelope names the configuration id either way: the consumer finds the merchant's APIv3 key by it.
    expect(queue.sent.map((m) => decodeEnvelope(m).account)).toEqual(['shop', 'kiosk']);
  });

  it('accepts old and new keys during a rotation overlap and only the new one afterwards', async () => {
    const merchant = sandbox.merchants[0]!;
    const next = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const nextId = 'PUB_KEY_ID_0199999999999999999999999999';
    const base = sandbox.document.merchants[0]!;
    const nextPem = next.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const overlap = {
      merchants: [{ ...base, verificationKeys: { ...base.verificationKeys, [nextId]: nextPem } }],
    };
    const after = { merchants: [{ ...base, verificationKeys: { [nextId]: nextPem } }] };
    const { body } = notification(0, 'EV-rotation');
    const oldKey = merchant.keys[0];
    const newKey = { serial: nextId, privateKey: next.privateKey };

    const during = handlerWith(overlap).handler;
    expect((await during(apiEvent(body, signNotification(body, oldKey, nowSeconds())))).statusCode).toBe(204);
    expect((await during(apiEvent(body, signNotification(body, newKey, nowSeconds())))).statusCode).toBe(204);
    const rotated = handlerWith(after);
    expect(
      (await rotated.handler(apiEvent(body, signNotification(body, newKey, nowSeconds())))).statusCode,
    ).toBe(204);
    expect(
      (await rotated.handler(apiEvent(body, signNotification(body, oldKey, nowSeconds())))).statusCode,
    ).toBe(401);
    expect(
      rotated.metrics.total('CallbackRejected{provider=wechatpay,reason=WECHATPAY_UNKNOWN_SERIAL}'),
    ).toBe(1);
  });

  describe('rejections answer 4xx with {"code":"FAIL"} and enqueue nothing', () => {
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cases: [
      string,
      number,
      string,
      (body: string) => { body?: string; headers: Record<string, string> },
    ][] = [
      [
        'bad signature (other key)',
        401,
        'WECHATPAY_SIGNATURE_MISMATCH',
        (body) => ({
          headers: signNotification(
            body,
            { ...sandbox.merchants[0]!.keys[0], privateKey: attacker.privateKey },
            nowSeconds(),
          ),
        }),
      ],
      [
        'tampered body',
        401,
        'WECHATPAY_SIGNATURE_MISMATCH',
        (body) => ({
          body: body.replace('"summary":"', '"summary":"x'),
          headers: signNotification(body, sandbox.merchants[0]!.keys[0], nowSeconds()),
        }),
      ],
      [
        'unknown serial',
        401,
        'WECHATPAY_UNKNOWN_SERIAL',
        (body) => ({
          headers: signNotification(
            body,
            { ...sandbox.merchants[0]!.keys[0], serial: 'ABCDEF0123' },
            nowSeconds(),
          ),
        }),
      ],
      [
        'timestamp 400 s old',
        401,
        'WECHATPAY_TIMESTAMP_OUT_OF_WINDOW',
        (body) => ({
          headers: signNotification(body, sandbox.merchants[0]!.keys[0], nowSeconds() - 400),
        }),
      ],
      [
        'timestamp 400 s ahead',
        401,
        'WECHATPAY_TIMESTAMP_OUT_OF_WINDOW',
        (body) => ({
          headers: signNotification(body, sandbox.merchants[0]!.keys[0], nowSeconds() + 400),
        }),
      ],
      ...(['Wechatpay-Signature', 'Wechatpay-Serial', 'Wechatpay-Timestamp', 'Wechatpay-Nonce'] as const).map(
        (name) =>
          [
            `missing ${name}`,
            400,
            'WECHATPAY_HEADER_MISSING',
            (body: string) => {
              const headers = signNotification(body, sandbox.merchants[0]!.keys[0], nowSeconds());
              delete headers[name];
              return { headers };
            },
          ] as [string, number, string, (body: string) => { headers: Record<string, string> }],
      ),
      [
        'wrong signature type',
        400,
        'WECHATPAY_SIGNATURE_TYPE',
        (body) => ({
          headers: {
            ...signNotification(body, sandbox.merchants[0]!.keys[0], nowSeconds()),
            'Wechatpay-Signature-Type': 'WECHATPAY2-SHA1-RSA',
          },
        }),
      ],
      [
        'signed body that is not JSON',
        400,
        'WECHATPAY_BODY_NOT_JSON',
        () => ({
          body: '<xml><return_code>SUCCESS</return_code></xml>',
          headers: signNotification(
            '<xml><return_code>SUCCESS</return_code></xml>',
            sandbox.merchants[0]!.keys[0],
            nowSeconds(),
          ),
        }),
      ],
      [
        'signed JSON that is not a notification',
        400,
        'WECHATPAY_BODY_INVALID',
        () => ({
          body: '{"id":"EV-1"}',
          headers: signNotification('{"id":"EV-1"}', sandbox.merchants[0]!.keys[0], nowSeconds()),
        }),
      ],
      [
        'oversize body',
        413,
        'WECHATPAY_BODY_TOO_LARGE',
        (body) => {
          const big = body.replace('"summary":"', `"summary":"${'x'.repeat(2_097_152)}`);
          return { body: big, headers: signNotification(big, sandbox.merchants[0]!.keys[0], nowSeconds()) };
        },
      ],
    ];
    for (const [name, status, code, forge] of cases) {
      it(name, async () => {
        const queue = recordingQueue();
        const { handler, metrics } = handlerWith(sandbox.document, queue);
        const { body } = notification(0, `EV-reject-${name}`);
        const forged = forge(body);
        const result = await handler(apiEvent(forged.body ?? body, forged.headers));
        expect(result.statusCode).toBe(status);
        expect(JSON.parse(result.body as string)).toEqual({ code: 'FAIL', message: expect.any(String) });
        expect(queue.sent).toEqual([]);
        expect(metrics.total(`CallbackRejected{provider=wechatpay,reason=${code}}`)).toBe(1);
        expect(metrics.total('CallbackAccepted')).toBe(0);
      });
    }

    it('a WECHATPAY/SIGNTEST/ probe is a failure counted as a probe, not a rejection', async () => {
      const queue = recordingQueue();
      const { handler, metrics } = handlerWith(sandbox.document, queue);
      const { body } = notification(1, 'EV-probe');
      const headers = signNotification(body, sandbox.merchants[1]!.keys[0], nowSeconds());
      headers['Wechatpay-Signature'] = `${SIGNTEST_PREFIX}${Buffer.from('probe').toString('base64')}`;
      // Bare path, two merchants: the probe is still recognised (and never answered with success).
      const result = await handler(apiEvent(body, headers));
      expect(result.statusCode).toBe(401);
      expect(JSON.parse(result.body as string)).toMatchObject({ code: 'FAIL' });
      expect(metrics.total('CallbackProbe')).toBe(1);
      expect(metrics.total('CallbackRejected')).toBe(0);
      expect(queue.sent).toEqual([]);
    });
  });

  it('answers 503 with the FAIL body when the queue is unreachable', async () => {
    const metrics = new MemoryMetrics();
    const handler = createWechatpayWebhookHandler(
      {
        QUEUE_URL: 'http://127.0.0.1:9/000000000000/gone',
        SQS_ENDPOINT: 'http://127.0.0.1:9',
        WECHATPAY_MERCHANTS: JSON.stringify(sandbox.document),
      },
      { logger, metrics },
    );
    const { body } = notification(0, 'EV-enqueue-fails');
    const result = await handler(
      apiEvent(body, signNotification(body, sandbox.merchants[0]!.keys[0], nowSeconds())),
    );
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body as string)).toEqual({ code: 'FAIL', message: expect.any(String) });
    expect(metrics.total('CallbackEnqueueFailed')).toBe(1);
    expect(metrics.total('CallbackAccepted')).toBe(0);
  });

  it('reads WECHATPAY_MERCHANTS_FILE once per container, and fails the cold start loudly without configuration', async () => {
    const file = path.join(dir, 'merchants.json');
    await writeFile(file, JSON.stringify(sandbox.document));
    const queue = recordingQueue();
    const handler = createWechatpayWebhookHandler(
      { QUEUE_URL: 'http://127.0.0.1:9/unused', WECHATPAY_MERCHANTS_FILE: file },
      { logger, metrics: new MemoryMetrics(), queue },
    );
    const { body } = notification(0, 'EV-file');
    const event = () => apiEvent(body, signNotification(body, sandbox.merchants[0]!.keys[1], nowSeconds()));
    expect((await handler(event())).statusCode).toBe(204);
    await rm(file);
    expect((await handler(event())).statusCode).toBe(204); // keys were parsed at the first call, not re-read

    const unconfigured = createWechatpayWebhookHandler(
      { QUEUE_URL: 'http://127.0.0.1:9/unused' },
      { logger, queue },
    );
    await expect(unconfigured(event())).rejects.toThrow(/WECHATPAY_MERCHANTS/);
    const missingFile = createWechatpayWebhookHandler(
      { QUEUE_URL: 'x', WECHATPAY_MERCHANTS_FILE: file },
      { logger, queue },
    );
    await expect(missingFile(event())).rejects.toThrow(/cannot be read/);
  });
});

describe('beijingTime', () => {
  it('formats unix seconds as RFC 3339 in +08:00', () => {
    expect(beijingTime(Date.UTC(2025, 2, 1, 1, 15, 3) / 1000)).toBe('2025-03-01T09:15:03+08:00');
  });
});
