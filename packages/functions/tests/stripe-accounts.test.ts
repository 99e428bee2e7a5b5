// Several independent Stripe accounts in one deployment, through the real webhook handler: each account's
// `/webhooks/stripe/{account}` takes only events signed with its own endpoint secrets and books them under its
// id; Connect events keep their acct_…; an unconfigured account path is answered exactly like a wrong signature.
// The accounts' secrets are generated here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeEnvelope } from '@payhooks/core/envelope';
import { createLogger } from '@payhooks/core/logger';
import type { Queue } from '@payhooks/core/ports';
import { randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { signStripePayload } from '@payhooks/testkit/sandbox/stripe-sender';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../src/adapters/metrics.ts';
import { createStripeWebhookHandler } from '../src/stripe-webhook.ts';
import { stripeClientForAccount, stripeClients } from '../src/wiring/clients.ts';
import { stripeApiOptions } from '../src/wiring/recon.ts';
import { parseStripeApiKeys, parseStripeWebhookSecrets } from '../src/wiring/stripe-accounts.ts';

const logger = createLogger({ name: 'test', destination: pino.destination('/dev/null') });
const secrets = { default: randomWebhookSecret(), eu: randomWebhookSecret(), us: randomWebhookSecret() };
const now = () => Math.floor(Date.now() / 1000);

function recordingQueue(): Queue & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    async send(message) {
      sent.push(message);
      return { messageId: `m-${sent.length}` };
    },
  };
}

const eventBody = (id: string, account?: string) =>
  JSON.stringify({
    id,
    object: 'event',
    type: 'charge.succeeded',
    created: now(),
    ...(account ? { account } : {}),
    data: { object: { object: 'charge' } },
  });

function post(path: string | undefined, body: string, secret: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: path === undefined ? 'POST /webhooks/stripe' : 'POST /webhooks/stripe/{account}',
    rawPath: path === undefined ? '/webhooks/stripe' : `/webhooks/stripe/${path}`,
    rawQueryString: '',
    headers: {
      'stripe-signature': signStripePayload(body, [secret], now()),
      'content-type': 'application/json',
    },
    body,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-accounts' },
    ...(path === undefined ? {} : { pathParameters: { account: path } }),
  } as unknown as APIGatewayProxyEventV2;
}

function handlerFor(webhookSecrets: string) {
  const queue = recordingQueue();
  const metrics = new MemoryMetrics();
  const handler = createStripeWebhookHandler(
    { QUEUE_URL: 'http://127.0.0.1:9/unused', STRIPE_WEBHOOK_SECRETS: webhookSecrets },
    { logger, metrics, queue },
  );
  return { handler, queue, metrics };
}

const accountsDocument = JSON.stringify({
  default: [secrets.default],
  eu: [secrets.eu],
  us: `whsec_retired,${secrets.us}`,
});

describe('several Stripe accounts in one deployment', () => {
  it('routes each account path by its own secrets and books its own events under its id', async () => {
    const { handler, queue } = handlerFor(accountsDocument);
    const answers = [
      await handler(post(undefined, eventBody('evt_1Bare'), secrets.default)),
      await handler(post('default', eventBody('evt_1Default'), secrets.default)),
      await handler(post('eu', eventBody('evt_1Eu'), secrets.eu)),
      await handler(post('us', eventBody('evt_1Us'), secrets.us)),
      // A Connect event on an account's endpoint keeps its connected account.
      await handler(post('eu', eventBody('evt_1EuConnect', 'acct_1Seller'), secrets.eu)),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(queue.sent.map((m) => [decodeEnvelope(m).eventId, decodeEnvelope(m).account])).toEqual([
      ['evt_1Bare', ''],
      ['evt_1Default', ''],
      ['evt_1Eu', 'eu'],
      ['evt_1Us', 'us'],
      ['evt_1EuConnect', 'acct_1Seller'],
    ]);
  });

  it("refuses one account's event on another account's path", async () => {
    const { handler, queue } = handlerFor(accountsDocument);
    const crossed = [
      await handler(post('eu', eventBody('evt_1UsOnEu'), secrets.us)),
      await handler(post(undefined, eventBody('evt_1EuOnBare'), secrets.eu)),
      await handler(post('us', eventBody('evt_1DefaultOnUs'), secrets.default)),
    ];
    expect(crossed.map((a) => a.statusCode)).toEqual([400, 400, 400]);
    expect(queue.sent).toEqual([]);
  });

  it('answers an unconfigured account path exactly like a wrong signature on a configured one', async () => {
    const { handler, queue } = handlerFor(accountsDocument);
    const body = eventBody('evt_1Probe');
    const forged = await handler(post('eu', body, randomWebhookSecret()));
    for (const path of ['nobody', 'acct_1Seller', 'EU']) {
      const unknown = await handler(post(path, body, secrets.eu));
      expect({ path, status: unknown.statusCode, body: unknown.body }).toEqual({
        path,
        status: forged.statusCode,
        body: forged.body,
      });
    }
    // The malformed-header answer is the same too: the checks run in the same order on either path.
    const malformed = { ...post('eu', body, secrets.eu), headers: { 'stripe-signature': 'nonsense' } };
    const malformedUnknown = {
      ...post('nobody', body, secrets.eu),
      headers: { 'stripe-signature': 'nonsense' },
    };
    const [a, b] = [await handler(malformed), await handler(malformedUnknown)];
    expect({ status: b.statusCode, body: b.body }).toEqual({ status: a.statusCode, body: a.body });
    expect(queue.sent).toEqual([]);
  });

  it('keeps the single-account form: a secrets list is the default account, and no other path is routed', async () => {
    const { handler, queue } = handlerFor(`whsec_retired,${secrets.default}`);
    expect((await handler(post(undefined, eventBody('evt_1Single'), secrets.default))).statusCode).toBe(200);
    expect(
      (await handler(post('default', eventBody('evt_1SingleDefault'), secrets.default))).statusCode,
    ).toBe(200);
    expect(
      (await handler(post('acct_1Seller', eventBody('evt_1Label', 'acct_1Seller'), secrets.default)))
        .statusCode,
    ).toBe(400);
    expect(queue.sent.map((m) => decodeEnvelope(m).account)).toEqual(['', '']);
  });

  it('parses both forms of STRIPE_WEBHOOK_SECRETS and STRIPE_API_KEY and names the variable, never a value', () => {
    expect(parseStripeWebhookSecrets('whsec_a, whsec_b')).toEqual({
      default: ['whsec_a', 'whsec_b'],
      named: new Map(),
    });
    expect(parseStripeWebhookSecrets('{"eu":"whsec_a,whsec_b","default":["whsec_c"]}')).toEqual({
      default: ['whsec_c'],
      named: new Map([['eu', ['whsec_a', 'whsec_b']]]),
    });
    expect(parseStripeApiKeys('rk_test_1')).toEqual({ default: 'rk_test_1', named: new Map() });
    expect(parseStripeApiKeys('{"eu":"rk_test_2"}')).toEqual({
      default: undefined,
      named: new Map([['eu', 'rk_test_2']]),
    });
    for (const [parse, text, message] of [
      [
        parseStripeWebhookSecrets,
        '{"eu": whsec_secretvalue',
        /STRIPE_WEBHOOK_SECRETS: starts with "\{" but is not valid JSON/,
      ],
      [parseStripeWebhookSecrets, '{"eu":[]}', /STRIPE_WEBHOOK_SECRETS: account "eu" needs a non-empty list/],
      [parseStripeWebhookSecrets, '{"acct_1X":["whsec_secretvalue"]}', /must not start with acct_/],
      [parseStripeWebhookSecrets, '{"e u":["whsec_secretvalue"]}', /account id "e u" must be/],
      [parseStripeApiKeys, '{"eu":5}', /STRIPE_API_KEY: account "eu" needs an API key string/],
      [parseStripeApiKeys, '{}', /STRIPE_API_KEY: names no account/],
    ] as const) {
      let error: unknown;
      try {
        parse(text);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(message) });
      expect((error as Error).message).not.toMatch(/secretvalue/);
    }
  });

  it("calls the Stripe API with the account's own key: independent accounts their key, Connect accounts the default's", async () => {
    const seen: { key: string; account: string; path: string }[] = [];
    const server = http.createServer((request, response) => {
      seen.push({
        key: (request.headers.authorization ?? '').replace(/^Bearer /, ''),
        account: String(request.headers['stripe-account'] ?? ''),
        path: request.url ?? '',
      });
      response.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_1' });
      response.end(JSON.stringify({ id: 'pi_1', object: 'payment_intent' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const keys = { default: 'rk_test_defaultKey', eu: 'rk_test_euKey' };
      const options = stripeApiOptions(parseStripeApiKeys(JSON.stringify(keys)), {
        STRIPE_API_BASE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      });
      const clients = stripeClients({ ...options, clock: { now: () => new Date() } });
      for (const account of ['', 'eu', 'acct_1Seller']) {
        await clients.retrieveApiFor(account).retrieve('payment_intent', 'pi_1');
      }
      // Backfill's client (`payhooks backfill stripe --account …`) picks the same keys.
      for (const account of [undefined, 'eu', 'acct_1Seller']) {
        await stripeClientForAccount(JSON.stringify(keys), account, {
          baseUrl: options.baseUrl!,
          clock: { now: () => new Date() },
        }).retrieve('payment_intent', 'pi_1');
      }
      const expected = [
        { key: keys.default, account: '', path: '/v1/payment_intents/pi_1' },
        { key: keys.eu, account: '', path: '/v1/payment_intents/pi_1' },
        { key: keys.default, account: 'acct_1Seller', path: '/v1/payment_intents/pi_1' },
      ];
      expect(seen).toEqual([...expected, ...expected]);
      expect(clients.reportApiFor('eu')).toBe(clients.retrieveApiFor('eu'));
      expect(clients.reportApiFor('')).toBe(clients.reportApi);
      expect(clients.reportApiFor('acct_1Seller')).toBe(clients.reportApi);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
