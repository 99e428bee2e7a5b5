// A corpus of bad Stripe callbacks sent through the local gateway: each gets its documented status and none
// reaches the queue or the ledger. Content type is not part of Stripe's signature and is not checked; the
// signature over the raw bytes decides (docs/decisions.md, "Ingress limits and statuses").
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { signStripePayload } from '@payhooks/testkit/sandbox/stripe-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../src/stack.ts';
import { rawRequest } from './helpers/raw-http.ts';

const secret = randomWebhookSecret();
let db: TestDatabase;
let stack: LocalStack;
beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startLocalStack({
    stateDir: await mkdtemp(path.join(os.tmpdir(), 'payhooks-badstripe-')),
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: [secret],
  });
});
afterAll(async () => {
  await stack?.stop();
  await db?.drop();
});

const now = () => Math.floor(Date.now() / 1000);
const event = (patch: Record<string, unknown> = {}) =>
  JSON.stringify(
    {
      id: 'evt_1Bad',
      object: 'event',
      type: 'charge.succeeded',
      created: now(),
      livemode: false,
      data: { object: { object: 'charge' } },
      ...patch,
    },
    null,
    2,
  );
const sign = (body: string | Buffer, t = now(), secrets = [secret]) => {
  const text = typeof body === 'string' ? body : body.toString('latin1');
  return signStripePayload(text, secrets, t);
};

interface Case {
  name: string;
  status: number;
  method?: string;
  path?: string;
  body: string | Buffer;
  headers?: Record<string, string>;
  signature?: string | null;
  raw?: string[];
}

function cases(): Case[] {
  const good = event();
  const list: Case[] = [
    { name: 'no signature header', status: 400, body: good, signature: null },
    { name: 'empty signature header', status: 400, body: good, signature: '' },
    { name: 'timestamp only', status: 400, body: good, signature: `t=${now()}` },
    { name: 'v1 only', status: 400, body: good, signature: `v1=${'a'.repeat(64)}` },
    { name: 'non-numeric timestamp', status: 400, body: good, signature: `t=soon,v1=${'a'.repeat(64)}` },
    { name: 'non-hex v1', status: 400, body: good, signature: `t=${now()},v1=${'z'.repeat(64)}` },
    { name: 'short v1', status: 400, body: good, signature: `t=${now()},v1=abcd` },
    {
      name: 'signature of another body',
      status: 400,
      body: good,
      signature: sign(event({ id: 'evt_other' })),
    },
    { name: 'wrong secret', status: 400, body: good, signature: sign(good, now(), [randomWebhookSecret()]) },
    { name: 'stale timestamp', status: 400, body: good, signature: sign(good, now() - 400) },
    { name: 'future timestamp', status: 400, body: good, signature: sign(good, now() + 400) },
    { name: 'timestamp zero', status: 400, body: good, signature: sign(good, 0) },
    {
      name: 'timestamp far future',
      status: 400,
      body: good,
      signature: `t=999999999999,v1=${'a'.repeat(64)}`,
    },
    { name: 'legacy v0 only', status: 400, body: good, signature: `t=${now()},v0=${'a'.repeat(64)}` },
    { name: 'garbage header', status: 400, body: good, signature: 'Bearer hello' },
    {
      name: 'upper-case keys',
      status: 400,
      body: good,
      signature: sign(good).replace('t=', 'T=').replace(/v1=/g, 'V1='),
    },
    {
      name: 'replayed signature of a valid event after 10 minutes',
      status: 400,
      body: good,
      signature: sign(good, now() - 600),
    },
    {
      name: 'tampered body byte',
      status: 400,
      body: good.replace('charge.succeeded', 'charge.succeedeD'),
      signature: sign(good),
    },
    { name: 'trailing newline added', status: 400, body: `${good}\n`, signature: sign(good) },
    { name: 'BOM prefixed', status: 400, body: `\uFEFF${good}`, signature: sign(good) },
    {
      name: 're-serialized JSON',
      status: 400,
      body: JSON.stringify(JSON.parse(good)),
      signature: sign(good),
    },
    { name: 'CRLF line endings', status: 400, body: good.replace(/\n/g, '\r\n'), signature: sign(good) },
    { name: 'empty body signed', status: 400, body: '', signature: sign('') },
    { name: 'null body signed', status: 400, body: 'null', signature: sign('null') },
    { name: 'array body signed', status: 400, body: '[]', signature: sign('[]') },
    { name: 'number body signed', status: 400, body: '1', signature: sign('1') },
    { name: 'string body signed', status: 400, body: '"evt_1"', signature: sign('"evt_1"') },
    {
      name: 'truncated JSON signed',
      status: 400,
      body: good.slice(0, 40),
      signature: sign(good.slice(0, 40)),
    },
    {
      name: 'form-encoded body signed',
      status: 400,
      body: 'id=evt_1&type=x',
      signature: sign('id=evt_1&type=x'),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    },
    {
      name: 'NUL byte inside JSON string',
      status: 400,
      body: good.replace('"charge"', '"ch\u0000arge"'),
      signature: sign(good.replace('"charge"', '"ch\u0000arge"')),
    },
  ];
  const latin1 = Buffer.from(
    event({ data: { object: { object: 'charge', description: 'café' } } }),
    'latin1',
  );
  list.push({
    name: 'latin-1 body',
    status: 400,
    body: latin1,
    signature: sign(latin1),
    headers: { 'content-type': 'application/octet-stream' },
  });
  const utf16 = Buffer.from(good, 'utf16le');
  list.push({
    name: 'UTF-16 body',
    status: 400,
    body: utf16,
    signature: sign(utf16),
    headers: { 'content-type': 'application/octet-stream' },
  });
  const invalidUtf8 = Buffer.concat([
    Buffer.from(good.slice(0, 20)),
    Buffer.from([0xc3, 0x28]),
    Buffer.from(good.slice(20)),
  ]);
  list.push({
    name: 'invalid UTF-8 sequence',
    status: 400,
    body: invalidUtf8,
    signature: sign(invalidUtf8),
    headers: { 'content-type': 'application/octet-stream' },
  });
  const bomb = '['.repeat(100_000) + ']'.repeat(100_000);
  list.push({ name: 'JSON bomb: 100k nested arrays signed', status: 400, body: bomb, signature: sign(bomb) });
  const wide = `{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":0`).join(',')}}`;
  list.push({ name: 'JSON with 20k keys signed', status: 400, body: wide, signature: sign(wide) });
  // Above MAX_BODY_BYTES (2 MiB default): 413, as on WeChat Pay's path; smaller bodies are queued (claim check).
  const huge = event({ padding: 'x'.repeat(2_200_000) });
  list.push({ name: 'oversize signed body', status: 413, body: huge, signature: sign(huge) });
  list.push({ name: 'oversize unsigned body', status: 413, body: huge, signature: null });
  const field = (name: string, patch: Record<string, unknown>) => {
    const body = event(patch);
    list.push({ name, status: 400, body, signature: sign(body) });
  };
  field('id missing', { id: undefined });
  field('id of a charge', { id: 'ch_123' });
  field('id too long', { id: `evt_${'a'.repeat(300)}` });
  field('id with unicode', { id: 'evt_é' });
  field('id with lone surrogate', { id: 'evt_\ud800' });
  field('id a number', { id: 12345 });
  field('type missing', { type: undefined });
  field('type empty', { type: '' });
  field('type too long', { type: 'x'.repeat(300) });
  field('type an object', { type: { a: 1 } });
  field('created missing', { created: undefined });
  field('created a string', { created: 'yesterday' });
  field('created negative', { created: -1 });
  field('created a float', { created: 1.5 });
  field('created beyond safe integers', { created: 2 ** 60 });
  field('account not acct_', { account: 'bob' });
  field('account a number', { account: 42 });
  {
    const body = event().replace(/"created": \d+/, '"created": 1e400');
    list.push({ name: 'created 1e400 (Infinity)', status: 400, body, signature: sign(body) });
  }
  list.push(
    { name: 'GET instead of POST', status: 404, method: 'GET', body: '', signature: sign(good) },
    { name: 'PUT instead of POST', status: 404, method: 'PUT', body: good, signature: sign(good) },
    { name: 'unknown path', status: 404, path: '/webhooks/strip', body: good, signature: sign(good) },
    { name: 'trailing slash', status: 404, path: '/webhooks/stripe/', body: good, signature: sign(good) },
    {
      name: 'unconfigured account path (answered like a wrong signature)',
      status: 400,
      path: '/webhooks/stripe/acct_1Other',
      body: good,
      signature: sign(good),
    },
    {
      name: 'text/plain with a forged signature',
      status: 400,
      body: good,
      signature: sign(good, now(), [randomWebhookSecret()]),
      headers: { 'content-type': 'text/plain' },
    },
    {
      name: 'multipart with a forged signature',
      status: 400,
      body: good,
      signature: sign(good, now(), [randomWebhookSecret()]),
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
    },
    {
      name: 'no content type, forged',
      status: 400,
      body: good,
      signature: `t=${now()},v1=${'b'.repeat(64)}`,
      headers: {},
    },
    {
      name: 'very long header',
      status: 400,
      body: good,
      signature: `t=${now()},${Array.from({ length: 120 }, () => `v1=${'c'.repeat(64)}`).join(',')}`,
    },
  );
  const signature = sign(good);
  list.push(
    {
      name: 'CRLF injection smuggling a second Content-Length',
      status: 400,
      body: good,
      raw: [`Stripe-Signature: garbage\r\nContent-Length: 0`],
    },
    {
      name: 'CRLF injection smuggling a second signature',
      status: 400,
      body: good,
      raw: [`Stripe-Signature: t=1\r\nStripe-Signature: ${signature}`],
    },
    {
      name: 'duplicated signature headers (one garbage)',
      status: 400,
      body: good,
      raw: [`Stripe-Signature: ${signature}`, 'Stripe-Signature: garbage'],
    },
    {
      name: 'non-Latin-1 bytes in the header',
      status: 400,
      body: good,
      raw: [`Stripe-Signature: t=${now()},v1=\u00e9\u00e9`],
    },
    { name: 'header name with a space', status: 400, body: good, raw: [`Stripe Signature: ${signature}`] },
  );
  return list;
}

async function send(c: Case): Promise<number> {
  const url = `${stack.gatewayUrl}${c.path ?? '/webhooks/stripe'}`;
  const body = typeof c.body === 'string' ? Buffer.from(c.body, 'utf8') : c.body;
  if (c.raw)
    return rawRequest(
      url,
      [
        `${c.method ?? 'POST'} ${c.path ?? '/webhooks/stripe'} HTTP/1.1`,
        'Content-Type: application/json',
        ...c.raw,
      ],
      body,
    );
  const headers: Record<string, string> = { 'content-type': 'application/json', ...c.headers };
  if (c.signature !== null && c.signature !== undefined) headers['stripe-signature'] = c.signature;
  const response = await fetch(url, {
    method: c.method ?? 'POST',
    headers,
    ...(c.method === 'GET' ? {} : { body }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('Stripe bad-input corpus through the gateway', () => {
  const corpus = cases();
  it('has at least 60 cases', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
  });

  it.each(corpus.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await send(c)).toBe(c.status);
  });

  it('let nothing through to the queue or the ledger', async () => {
    const accepted = [...stack.metrics.ingress.counts.keys()].filter(
      (key) => !key.startsWith('CallbackRejected'),
    );
    expect(accepted).toEqual([]);
    expect(await stack.queues.depth(stack.queues.queueUrl)).toBe(0);
    expect(stack.metrics.ingress.total('CallbackAccepted')).toBe(0);
    const rows = await stack.sql`select 1 from inbox_events`;
    expect(rows.length).toBe(0);
  });

  it('still accepts the genuine event afterwards (the corpus did not break the endpoint)', async () => {
    const body = event({ id: 'evt_1Genuine' });
    expect(await send({ name: 'genuine', status: 200, body, signature: sign(body) })).toBe(200);
  });
});
