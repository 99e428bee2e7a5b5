// The local gateway against malformed requests over real HTTP (a raw socket, byte for byte): request targets with
// broken percent-encoding, arbitrary header names and values, arbitrary bodies. Every request gets an HTTP answer
// (400 for what is not a request API Gateway would route, 404 for no route, the handler's own status otherwise),
// the process never crashes, the gateway keeps serving, and a routed body reaches the handler byte for byte.
import { createLogger } from '@payhooks/core/logger';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { createStripeWebhookHandler } from '@payhooks/functions/stripe-webhook';
import { randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../src/gateway.ts';
import { rawExchange } from './helpers/raw-http-response.ts';

let gateway: Gateway;
const gatewayFaults: unknown[] = [];
const enqueued: string[] = [];
const echoed: APIGatewayProxyEventV2[] = [];

beforeAll(async () => {
  const stripe = createStripeWebhookHandler(
    { STRIPE_WEBHOOK_SECRETS: randomWebhookSecret(), QUEUE_URL: 'http://127.0.0.1:9/q' },
    {
      // No fuzzed request is validly signed: none may reach the queue.
      queue: {
        send: async (body) => {
          enqueued.push(body);
          return { messageId: 'm' };
        },
      },
      logger: createLogger({
        name: 'gateway-fuzz',
        destination: pino.destination({ dest: '/dev/null', sync: true }),
      }),
      metrics: new MemoryMetrics(),
    },
  );
  gateway = await startGateway({
    port: 0,
    routes: [
      { method: 'POST', path: '/webhooks/stripe', handler: stripe },
      { method: 'POST', path: '/webhooks/stripe/{account}', handler: stripe },
      {
        method: 'POST',
        path: '/echo/{name}',
        handler: async (event) => {
          echoed.push(event);
          return { statusCode: 200, body: 'ok' };
        },
      },
    ],
    onError: (error) => gatewayFaults.push(error),
  });
});
afterAll(async () => {
  await gateway?.stop();
});

const head = (method: string, target: string, headers: [string, string][] = []) => [
  `${method} ${target} HTTP/1.1`,
  ...headers.map(([name, value]) => `${name}: ${value}`),
];

/** The gateway still answers a plain request after whatever came before. */
async function stillServing(): Promise<void> {
  const answer = await rawExchange(gateway.url, head('POST', '/nowhere'));
  expect(answer.status).toBe(404);
}

describe('gateway: malformed input', () => {
  it('answers 400 to a path parameter that is not valid percent-encoded UTF-8 (it crashed the stack)', async () => {
    for (const target of [
      '/webhooks/stripe/%E0%A4%A',
      '/webhooks/stripe/%',
      '/webhooks/stripe/%zz',
      '/webhooks/stripe/%C0%AF',
      '/echo/%ED%A0%80',
    ]) {
      const answer = await rawExchange(gateway.url, head('POST', target), Buffer.from('{}'));
      expect(answer.status, target).toBe(400);
      expect(JSON.parse(answer.body)).toEqual({ message: 'Bad Request' });
    }
    await stillServing();
    expect(enqueued).toEqual([]);
  });

  it('answers 400 to a request target that is not an origin-form path', async () => {
    for (const target of ['*', 'http://[', 'webhooks/stripe', '//', 'http://localhost:1/webhooks/stripe']) {
      const answer = await rawExchange(gateway.url, head('POST', target), Buffer.from('{}'));
      expect([400, 404], target).toContain(answer.status);
    }
    await stillServing();
  });

  it('survives a client that goes away in the middle of a body', async () => {
    const { hostname, port } = new URL(gateway.url);
    const net = await import('node:net');
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => {
        socket.write(
          `POST /webhooks/stripe HTTP/1.1\r\nHost: ${hostname}\r\nContent-Length: 1000\r\n\r\n{"id":`,
          () => {
            socket.destroy();
            resolve();
          },
        );
      });
      socket.on('error', reject);
    });
    await stillServing();
  });

  // Request targets built from route words, percent signs and escapes (valid, truncated, overlong, surrogate),
  // arbitrary printable ASCII and raw high bytes.
  const segment = fc.oneof(
    fc.constantFrom('webhooks', 'stripe', 'wechatpay', 'echo', '%', '%E0', '%A4%A', '%E0%A4%A', '%zz', '%2F'),
    fc.constantFrom(
      '%C0%AF',
      '%ED%A0%80',
      '%F4%90%80%80',
      '%00',
      '..',
      '.',
      '?',
      '?a=%',
      '#',
      '',
      '%E4%B8%AD',
    ),
    fc.stringMatching(/^[\x21-\x7e]{0,6}$/),
    fc.uint8Array({ minLength: 1, maxLength: 3 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  );
  const target = fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`);
  const headerName = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
  const headerValue = fc.oneof(
    fc.stringMatching(/^[\x20-\x7e]{0,20}$/),
    fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  );
  const headers = fc.array(
    fc.oneof(
      fc.tuple(headerName, headerValue),
      fc.tuple(fc.constantFrom('Content-Type', 'Stripe-Signature'), headerValue),
      fc.constant<[string, string]>(['Content-Type', 'application/json']),
    ),
    { maxLength: 6 },
  );
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.json().map((text) => Buffer.from(text)),
  );

  it('answers every fuzzed request with a status and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST', 'GET', 'PUT'),
        target,
        headers,
        body,
        async (method, path, extra, payload) => {
          // Content-Length, Host and Connection are the helper's; a fuzzed duplicate would be a different test.
          const safe = extra.filter(
            ([name]) => !/^(content-length|host|connection|transfer-encoding)$/i.test(name),
          );
          const answer = await rawExchange(gateway.url, head(method, path, safe), payload).catch(
            (error: Error) => ({ status: 0, body: error.message, headers: {} }),
          );
          // 400: Node's parser or the gateway refused it; 404: no route; 200: the echo route; the webhook's own
          // 4xx for a request it rejects (never valid: nothing here is signed).
          expect([200, 400, 404, 413, 415, 431]).toContain(answer.status);
        },
      ),
      { numRuns: 300 },
    );
    await stillServing();
    expect(gatewayFaults).toEqual([]);
    expect(enqueued).toEqual([]);
  });

  it('hands a routed body to the handler byte for byte (text as UTF-8, anything else as base64)', async () => {
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom('application/json', 'application/octet-stream', 'text/plain', undefined),
        async (payload, contentType) => {
          echoed.length = 0;
          const extra: [string, string][] = contentType ? [['Content-Type', contentType]] : [];
          const answer = await rawExchange(gateway.url, head('POST', '/echo/x', extra), payload);
          expect(answer.status).toBe(200);
          const event = echoed[0]!;
          const received =
            event.body === undefined
              ? Buffer.alloc(0)
              : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
          expect(received.equals(payload)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});
