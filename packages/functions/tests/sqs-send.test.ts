// The webhooks' lean SendMessage (adapters/sqs-send.ts) through real requests: to the SQS emulator (read back
// with the SDK's ReceiveMessage), through a front that checks SigV4 with an independent implementation, against
// the SDK's own signed request, and against fronts that fail in the ways SQS and networks do.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError, EnqueueError } from '@payhooks/core/errors';
import { type LocalQueues, startLocalQueues } from '@payhooks/local/sqs';
import type { FinalizeRequestMiddleware, MetadataBearer } from '@smithy/types';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSqsSender, type SqsSender, sqsSenderFromEnv } from '../src/adapters/sqs-send.ts';

let queues: LocalQueues;
beforeAll(async () => {
  queues = await startLocalQueues({ visibilityTimeoutSeconds: 30, maxReceiveCount: 3 });
});
afterAll(async () => queues?.stop());

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const local = { accessKeyId: 'local', secretAccessKey: 'local' };
function sender(options: Partial<Parameters<typeof createSqsSender>[0]> = {}): SqsSender {
  const created = createSqsSender({
    queueUrl: queues.queueUrl,
    region: 'us-east-1',
    credentials: local,
    ...options,
  });
  cleanups.push(() => created.close());
  return created;
}

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
type Respond = (seen: Seen, res: http.ServerResponse, req?: http.IncomingMessage) => unknown;

/** An HTTP server that records every request and answers with `respond`. */
async function front(respond: Respond): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const one = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(one);
      void respond(one, res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function answer(res: http.ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'req-1' });
  res.end(text);
}

const md5 = (text: string) => crypto.createHash('md5').update(text, 'utf8').digest('hex');
/** Answers like SQS: a MessageId and the MD5 of the body it received. */
const accept: Respond = (seen, res) =>
  answer(res, 200, {
    MessageId: `m-${crypto.randomUUID()}`,
    MD5OfMessageBody: md5(JSON.parse(seen.body).MessageBody),
  });

/** Forwards a request to the emulator and relays its answer. */
function forward(seen: Seen, res: http.ServerResponse) {
  const target = new URL(queues.endpoint);
  const upstream = http.request(
    { host: target.hostname, port: target.port, method: seen.method, path: seen.url, headers: seen.headers },
    (answerFromEmulator) => {
      res.writeHead(answerFromEmulator.statusCode!, answerFromEmulator.headers);
      answerFromEmulator.pipe(res);
    },
  );
  upstream.end(seen.body);
}

// SigV4 written out from AWS's specification with node:crypto alone, so the lean sender's signature is checked
// by something other than the library that made it.
function expectedSignature(seen: Seen, secretAccessKey: string): { given: string; expected: string } {
  const auth = String(seen.headers.authorization ?? '');
  const match =
    /^AWS4-HMAC-SHA256 Credential=[^/]+\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!match) return { given: auth, expected: 'a well-formed AWS4-HMAC-SHA256 header' };
  const [, day, region, service, signedHeaders, given] = match as unknown as string[];
  const names = signedHeaders!.split(';');
  const canonicalHeaders = names.map((name) => `${name}:${String(seen.headers[name]).trim()}\n`).join('');
  const sha256 = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');
  const canonical = ['POST', seen.url, '', canonicalHeaders, signedHeaders, sha256(seen.body)].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', seen.headers['x-amz-date'], scope, sha256(canonical)].join('\n');
  const hmac = (key: crypto.BinaryLike, data: string) =>
    crypto.createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day!), region!), service!), 'aws4_request');
  return { given: given!, expected: hmac(key, toSign).toString('hex') };
}

/** A front that lets through only requests signed with `secretAccessKey`, as SQS would. */
const signatureChecking =
  (secretAccessKey: string): Respond =>
  (seen, res) => {
    const { given, expected } = expectedSignature(seen, secretAccessKey);
    if (given !== expected)
      return answer(res, 403, {
        __type: 'com.amazon.coral.service#InvalidSignatureException',
        message: 'The request signature we calculated does not match the signature you provided.',
      });
    forward(seen, res);
  };

async function receiveAll(count: number): Promise<{ MessageId?: string; Body?: string }[]> {
  const got: { MessageId?: string; Body?: string }[] = [];
  for (let tries = 0; got.length < count && tries < 20; tries++) {
    const { Messages = [] } = await queues.client.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    got.push(...Messages);
  }
  return got;
}

async function rejection(promise: Promise<unknown>): Promise<EnqueueError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EnqueueError);
  return error as EnqueueError;
}

describe('lean SendMessage', () => {
  it('a message it sends is received intact by the SDK, under the MessageId it returned', async () => {
    // Quotes, backslashes, control characters, astral-plane Unicode and a body near the ingress limit.
    const bodies = [
      '{"id":"evt_1","note":"\\"quoted\\" \\\\ back\\nslash"}',
      `{"name":"商户 😀 ${'\u2028'} tab\t"}`,
      JSON.stringify({ pad: 'x'.repeat(190_000), yuan: '¥100.00' }),
    ];
    const lean = sender();
    const sent = [];
    for (const body of bodies) sent.push(await lean.send(body));
    const received = await receiveAll(bodies.length);
    expect(new Map(received.map((m) => [m.MessageId, m.Body]))).toEqual(
      new Map(sent.map((s, i) => [s.messageId, bodies[i]])),
    );
  });

  it('its signature checks out against SigV4 written from the specification, session token included', async () => {
    const credentials = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      sessionToken: 'token/with+chars=',
    };
    const gate = await front(signatureChecking(credentials.secretAccessKey));
    const lean = sender({ endpoint: gate.url, credentials });
    const { messageId } = await lean.send('{"signed":true}');
    expect(gate.seen).toHaveLength(1);
    expect(gate.seen[0]!.headers['x-amz-security-token']).toBe(credentials.sessionToken);
    expect(String(gate.seen[0]!.headers.authorization)).toContain('x-amz-security-token');
    const [message] = await receiveAll(1);
    expect(message).toMatchObject({ MessageId: messageId, Body: '{"signed":true}' });
  });

  it('a wrong secret is refused (403) and answered with an EnqueueError, without a retry', async () => {
    const gate = await front(signatureChecking('the-real-secret'));
    const lean = sender({
      endpoint: gate.url,
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'a-wrong-secret' },
    });
    const error = await rejection(lean.send('{"forged":true}'));
    expect(error.code).toBe('SQS_REJECTED');
    expect(error.message).toContain('403 InvalidSignatureException');
    expect(error.message).not.toContain('a-wrong-secret');
    expect(gate.seen).toHaveLength(1);
  });

  it('a queue that does not exist is an EnqueueError from the emulator', async () => {
    const lean = sender({
      queueUrl: `${queues.endpoint}/000000000000/no-such-queue`,
      endpoint: queues.endpoint,
    });
    const error = await rejection(lean.send('{"lost":true}'));
    expect(error.code).toBe('SQS_REJECTED');
    expect(error.message).toMatch(/^SQS SendMessage answered 400 /);
  });

  it('signs exactly as the SDK client does: same request, same clock, same Authorization header', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-04T05:06:07.890Z'));
    const credentials = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret/Key+1',
      sessionToken: 'session',
    };
    const gate = await front(accept);
    const queueUrl = `${gate.url}/123456789012/payhooks-events`;
    const sdk = new SQSClient({ region: 'eu-west-1', endpoint: gate.url, credentials, md5: false });
    cleanups.push(() => sdk.destroy());
    // Only the SDK's bookkeeping headers (invocation id, attempt, user agent, query mode) are what the lean
    // request leaves out; they are removed before the SDK signs, so both sign the same request.
    const stripBookkeeping: FinalizeRequestMiddleware<object, MetadataBearer> = (next) => async (args) => {
      const { headers } = args.request as { headers: Record<string, string> };
      for (const name of [
        'amz-sdk-invocation-id',
        'amz-sdk-request',
        'x-amz-user-agent',
        'x-amzn-query-mode',
      ])
        delete headers[name];
      return next(args);
    };
    sdk.middlewareStack.addRelativeTo(stripBookkeeping as never, {
      relation: 'before',
      toMiddleware: 'httpSigningMiddleware',
      name: 'strip-sdk-bookkeeping',
    });
    const body = '{"id":"evt_same","text":"相同 \\"bytes\\""}';
    await sdk.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const lean = sender({ queueUrl, region: 'eu-west-1', credentials, now: () => new Date() });
    await lean.send(body);
    const [viaSdk, viaLean] = gate.seen;
    expect(viaLean!.body).toBe(viaSdk!.body);
    expect(viaLean!.headers['x-amz-date']).toBe('20260304T050607Z');
    expect(viaLean!.headers.authorization).toBe(viaSdk!.headers.authorization);
    // and the signature is the one the specification gives
    const { given, expected } = expectedSignature(viaLean!, credentials.secretAccessKey);
    expect(given).toBe(expected);
  });

  it('retries once after a 5xx and succeeds', async () => {
    const gate = await front((seen, res) =>
      gate.seen.length === 1
        ? answer(res, 500, { __type: 'com.amazonaws.sqs#InternalError' })
        : accept(seen, res),
    );
    const { messageId } = await sender({ endpoint: gate.url }).send('{"retry":1}');
    expect(messageId).toMatch(/^m-/);
    expect(gate.seen).toHaveLength(2);
  });

  it('retries once when throttled (400 RequestThrottled)', async () => {
    const gate = await front((seen, res) =>
      gate.seen.length === 1
        ? answer(res, 400, { __type: 'com.amazonaws.sqs#RequestThrottled', message: 'slow down' })
        : accept(seen, res),
    );
    await sender({ endpoint: gate.url }).send('{"retry":2}');
    expect(gate.seen).toHaveLength(2);
  });

  it('retries once when the connection is reset (a dead keep-alive socket)', async () => {
    const gate = await front((seen, res, req) =>
      gate.seen.length === 1 ? req!.socket.resetAndDestroy() : accept(seen, res),
    );
    await sender({ endpoint: gate.url }).send('{"retry":3}');
    expect(gate.seen).toHaveLength(2);
  });

  it('gives up after the second 503 with an EnqueueError naming it', async () => {
    const gate = await front((_seen, res) =>
      answer(res, 503, { __type: 'com.amazonaws.sqs#ServiceUnavailable' }),
    );
    const error = await rejection(sender({ endpoint: gate.url }).send('{"down":true}'));
    expect(error.code).toBe('SQS_UNAVAILABLE');
    expect(error.message).toBe('SQS SendMessage answered 503 ServiceUnavailable (request id req-1)');
    expect(gate.seen).toHaveLength(2);
  });

  it('an endpoint that never answers fails within the budget: two attempts, each cut at its timeout', async () => {
    const gate = await front(() => {}); // reads the request, never answers
    const lean = sender({ endpoint: gate.url, attemptTimeoutMs: 200, budgetMs: 1000 });
    const error = await rejection(lean.send('{"slow":true}'));
    expect(error.code).toBe('SQS_UNAVAILABLE');
    expect(gate.seen).toHaveLength(2);
  });

  it('no retry is started when the budget is spent', async () => {
    const gate = await front(() => {});
    const error = await rejection(
      sender({ endpoint: gate.url, attemptTimeoutMs: 400, budgetMs: 500 }).send('{}'),
    );
    expect(error.code).toBe('SQS_UNAVAILABLE');
    expect(gate.seen).toHaveLength(1);
  });

  it('an answer without a MessageId, or with the MD5 of another body, is an EnqueueError', async () => {
    const noId = await front((_seen, res) => answer(res, 200, { MD5OfMessageBody: md5('{}') }));
    expect((await rejection(sender({ endpoint: noId.url }).send('{}'))).code).toBe('SQS_BAD_ANSWER');
    const wrongMd5 = await front((_seen, res) =>
      answer(res, 200, { MessageId: 'm-1', MD5OfMessageBody: md5('other') }),
    );
    const error = await rejection(sender({ endpoint: wrongMd5.url }).send('{}'));
    expect(error).toMatchObject({
      code: 'SQS_BAD_ANSWER',
      message: expect.stringContaining('MD5OfMessageBody'),
    });
    expect(noId.seen).toHaveLength(1);
    expect(wrongMd5.seen).toHaveLength(1);
  });

  it('from the environment: the endpoint is the queue URL host; missing credentials name the variable', async () => {
    const gate = await front(signatureChecking('env-secret'));
    const fromEnv = sqsSenderFromEnv({
      QUEUE_URL: `${gate.url}/000000000000/payhooks-events`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDENV',
      AWS_SECRET_ACCESS_KEY: 'env-secret',
      AWS_SESSION_TOKEN: 'env-token',
    });
    cleanups.push(() => fromEnv.close());
    await fromEnv.send('{"env":true}');
    expect(gate.seen[0]!.headers.authorization).toContain('Credential=AKIDENV/');
    expect(gate.seen[0]!.headers['x-amz-security-token']).toBe('env-token');
    expect(await receiveAll(1)).toMatchObject([{ Body: '{"env":true}' }]);

    // Outside Lambda without credentials: the send fails (5xx to the provider), naming the variable.
    const unconfigured = sqsSenderFromEnv({ QUEUE_URL: queues.queueUrl, AWS_REGION: 'us-east-1' });
    cleanups.push(() => unconfigured.close());
    const error = await rejection(unconfigured.send('{}'));
    expect(error).toMatchObject({
      code: 'CONFIG_MISSING',
      message: 'SQS SendMessage not sent: environment variable AWS_ACCESS_KEY_ID is not set',
    });
    expect(() => sqsSenderFromEnv({ QUEUE_URL: 'payhooks-events' })).toThrow(
      new ConfigError('CONFIG_INVALID', 'QUEUE_URL must be a URL, got "payhooks-events"'),
    );
  });
});
