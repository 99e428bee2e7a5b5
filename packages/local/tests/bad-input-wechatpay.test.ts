// A corpus of bad WeChat Pay notifications sent through the local gateway: each gets its documented status
// (docs/decisions.md, "Statuses: 400 malformed, 401 not authentic, 413 too large; 204 on success"), the handler's
// answers carry {"code":"FAIL","message":…}, probes are counted as CallbackProbe, and nothing reaches the queue
// or the ledger. Keys come from freshly generated sandbox merchants; no key material lives in this file.
import crypto, { type KeyObject } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  buildSignatureHeaders,
  notificationMessage,
  SIGNTEST_PREFIX,
} from '@payhooks/core/providers/wechatpay';
import { prng } from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  generateSandboxMerchants,
  type SandboxKey,
  type SandboxMerchant,
  writeMerchantsFile,
} from '@payhooks/testkit/sandbox/wechatpay-merchants';
import {
  WechatpayHistory,
  type WechatpayNotificationSpec,
} from '@payhooks/testkit/sandbox/wechatpay-scenario';
import { encodeNotification, signNotification } from '@payhooks/testkit/sandbox/wechatpay-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../src/stack.ts';
import { rawExchange } from './helpers/raw-http-response.ts';

// Generated at collection time: it.each needs the corpus before beforeAll runs.
const sandbox = await generateSandboxMerchants();
const shop = sandbox.merchants[0]!;
const kiosk = sandbox.merchants[1]!;
const attacker = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const smallKey = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
// The stack's default MAX_BODY_BYTES (functions/wiring/ingress.ts): the one size refusal, 413.
const MAX_BODY_BYTES = 2_097_152;

let db: TestDatabase;
let stack: LocalStack;
beforeAll(async () => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-badwx-'));
  db = await createTestDatabase();
  stack = await startLocalStack({
    stateDir,
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: ['whsec_unused'],
    wechatpayMerchantsFile: await writeMerchantsFile(
      path.join(stateDir, 'wechatpay', 'merchants.json'),
      sandbox.document,
    ),
  });
});
afterAll(async () => {
  await stack?.stop();
  await db?.drop();
});

const now = () => Math.floor(Date.now() / 1000);
const SHOP_PATH = `/webhooks/wechatpay/${shop.id}`;
const BARE_PATH = '/webhooks/wechatpay';

// One real payment per merchant, so the bodies are exactly what WeChat sends; each case gets its own notify id.
const specs = new Map<string, WechatpayNotificationSpec>();
for (const merchant of [shop, kiosk]) {
  const history = new WechatpayHistory(prng(merchant === shop ? 5 : 6));
  history.payment(merchant, `BAD-${merchant.id}`, now() - 60, { amountMinor: 1234 });
  specs.set(merchant.id, history.notifications[0]!);
}
const notification = (
  label: string,
  merchant: SandboxMerchant = shop,
  patch: Record<string, unknown> = {},
) => {
  const spec = specs.get(merchant.id)!;
  const body = encodeNotification({ ...spec, id: `EV-bad-${label}` }, merchant.apiv3Key);
  return Object.keys(patch).length === 0 ? body : JSON.stringify({ ...JSON.parse(body), ...patch });
};

interface SignOptions {
  key?: Pick<SandboxKey, 'privateKey' | 'serial'>;
  t?: number;
  nonce?: string;
  /** Signs another message than the documented one (wrong algorithm, padding or message layout). */
  signature?: (message: Buffer, key: KeyObject) => Buffer;
}

/** Lower-case signature headers for `body` (as API Gateway delivers them). */
function sign(body: string | Buffer, options: SignOptions = {}): Record<string, string> {
  const key = options.key ?? shop.keys[0];
  const headers: Record<string, string> = {
    ...buildSignatureHeaders({
      body,
      privateKey: key.privateKey,
      serial: key.serial,
      now: new Date((options.t ?? now()) * 1000),
      ...(options.nonce ? { nonce: options.nonce } : {}),
    }),
  };
  if (options.signature) {
    const message = notificationMessage(headers['wechatpay-timestamp']!, headers['wechatpay-nonce']!, body);
    headers['wechatpay-signature'] = options.signature(message, key.privateKey).toString('base64');
  }
  return headers;
}
const without = (headers: Record<string, string>, name: string) => {
  const { [name]: _dropped, ...rest } = headers;
  return rest;
};
/** Raw header lines in WeChat's spelling. */
const lines = (headers: Record<string, string>) =>
  Object.entries(headers).map(
    ([name, value]) =>
      `${name.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase())}: ${value}`,
  );

// What each rejection's message says, so every case fails for the reason it was built for.
const R = {
  missing: (name: string) => new RegExp(`missing header ${name}\\b`),
  signatureType: /unsupported wechatpay-signature-type/,
  probe: /signature probe/,
  token: (name: string) => new RegExp(`header ${name} is not a printable token`),
  timestamp: /wechatpay-timestamp is not unix seconds/,
  window: /timestamp is \d+s away from now/,
  serial: /no verification key configured/,
  malformed: /wechatpay-signature is not a base64 RSA signature/,
  mismatch: /signature does not match/,
  tooLarge: new RegExp(`body is \\d+ bytes, more than ${MAX_BODY_BYTES}`),
  notJson: /body is not UTF-8 JSON/,
  notNotification: /body is not a notification envelope/,
  // Documented as 400 ("missing/duplicated header"); API Gateway joins repeated headers with a comma.
  duplicated: /./,
};

interface Case {
  name: string;
  status: number;
  /** handler: {"code":"FAIL"} from the WeChat Pay function; gateway: the gateway's own answer; http: Node's parser. */
  by?: 'handler' | 'gateway' | 'http';
  reason?: RegExp;
  probe?: boolean;
  method?: string;
  path?: string;
  body: string | Buffer;
  /** A function for signatures whose freshness matters: signed when sent, so the ±400 s margins hold exactly. */
  headers?: Record<string, string> | (() => Record<string, string>);
  contentType?: string | null;
  /** Raw header lines, sent over a socket (the request line, Content-Type, Host and Content-Length are added). */
  raw?: string[];
}

function cases(): Case[] {
  const list: Case[] = [];
  const add = (c: Case) => list.push(c);

  // Forged: a valid-looking signature that does not verify.
  {
    const body = notification('wrong-key');
    add({
      name: 'forged: attacker key under the shop serial',
      status: 401,
      reason: R.mismatch,
      body,
      headers: sign(body, { key: { serial: shop.keys[0].serial, privateKey: attacker.privateKey } }),
    });
  }
  {
    const body = notification('other-body');
    add({
      name: 'forged: signature of another body',
      status: 401,
      reason: R.mismatch,
      body,
      headers: sign(notification('other-body-2')),
    });
  }
  {
    const body = notification('other-merchant-key');
    add({
      name: 'forged: signed with the other merchant key under the shop serial',
      status: 401,
      reason: R.mismatch,
      body,
      headers: sign(body, { key: { serial: shop.keys[0].serial, privateKey: kiosk.keys[0].privateKey } }),
    });
    add({
      name: 'forged: shop certificate serial, signed with the shop public-key-mode key',
      status: 401,
      reason: R.mismatch,
      body,
      headers: sign(body, { key: { serial: shop.keys[1].serial, privateKey: shop.keys[0].privateKey } }),
    });
  }
  {
    const body = notification('kiosk-serial', kiosk);
    add({
      name: 'other merchant public key id on the shop path',
      status: 401,
      reason: R.serial,
      body,
      headers: sign(body, { key: kiosk.keys[0] }),
    });
    add({
      name: 'other merchant certificate serial on the shop path',
      status: 401,
      reason: R.serial,
      body,
      headers: sign(body, { key: kiosk.keys[1] }),
    });
  }
  {
    const body = notification('tampered');
    const headers = sign(body);
    add({
      name: 'tampered body byte',
      status: 401,
      reason: R.mismatch,
      body: body.replace('"summary":"', '"summary":"!'),
      headers,
    });
    add({
      name: 're-serialized (pretty-printed) body',
      status: 401,
      reason: R.mismatch,
      body: JSON.stringify(JSON.parse(body), null, 2),
      headers,
    });
    add({
      name: 'trailing newline added to the body',
      status: 401,
      reason: R.mismatch,
      body: `${body}\n`,
      headers,
    });
    add({ name: 'CRLF appended to the body', status: 401, reason: R.mismatch, body: `${body}\r\n`, headers });
    add({
      name: 'nonce changed after signing',
      status: 401,
      reason: R.mismatch,
      body,
      headers: { ...headers, 'wechatpay-nonce': `${headers['wechatpay-nonce']}X` },
    });
    add({
      name: 'timestamp moved by one second after signing',
      status: 401,
      reason: R.mismatch,
      body,
      headers: { ...headers, 'wechatpay-timestamp': String(Number(headers['wechatpay-timestamp']) - 1) },
    });
    add({
      name: 'BOM prefixed after signing',
      status: 401,
      reason: R.mismatch,
      body: `\uFEFF${body}`,
      headers,
    });
  }
  {
    const body = notification('algorithms');
    add({
      name: 'SHA-1 signature of the right message',
      status: 401,
      reason: R.mismatch,
      body,
      headers: sign(body, { signature: (m, k) => crypto.sign('RSA-SHA1', m, k) }),
    });
    add({
      name: 'SHA-512 signature of the right message',
      status: 401,
      reason: R.mismatch,
      body,
      headers: sign(body, { signature: (m, k) => crypto.sign('RSA-SHA512', m, k) }),
    });
    add({
      name: 'RSA-PSS instead of PKCS#1 v1.5',
      status: 401,
      reason: R.mismatch,
      body,
      headers: sign(body, {
        signature: (m, k) =>
          crypto.sign('sha256', m, {
            key: k,
            padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
            saltLength: 32,
          }),
      }),
    });
    add({
      name: 'message without the trailing newline',
      status: 401,
      reason: R.mismatch,
      body,
      headers: sign(body, { signature: (m, k) => crypto.sign('RSA-SHA256', m.subarray(0, -1), k) }),
    });
    add({
      name: 'signature over the body alone',
      status: 401,
      reason: R.mismatch,
      body,
      headers: sign(body, { signature: (_m, k) => crypto.sign('RSA-SHA256', Buffer.from(body), k) }),
    });
    add({
      name: 'message lines joined with CRLF',
      status: 401,
      reason: R.mismatch,
      body,
      headers: sign(body, {
        signature: (m, k) =>
          crypto.sign('RSA-SHA256', Buffer.from(m.toString('utf8').replace(/\n/g, '\r\n')), k),
      }),
    });
    add({
      name: 'signature of 256 zero bytes',
      status: 401,
      reason: R.mismatch,
      body,
      headers: sign(body, { signature: () => Buffer.alloc(256) }),
    });
  }

  // Replayed or delayed: a valid signature outside ±300 s (400 s margins).
  {
    const body = notification('stale');
    add({
      name: 'stale timestamp (now − 400 s)',
      status: 401,
      reason: R.window,
      body,
      headers: () => sign(body, { t: now() - 400 }),
    });
    add({
      name: 'future timestamp (now + 400 s)',
      status: 401,
      reason: R.window,
      body,
      headers: () => sign(body, { t: now() + 400 }),
    });
    add({
      name: 'replayed delivery from 10 minutes ago',
      status: 401,
      reason: R.window,
      body,
      headers: () => sign(body, { t: now() - 600 }),
    });
    add({ name: 'timestamp zero', status: 401, reason: R.window, body, headers: sign(body, { t: 0 }) });
    add({
      name: 'timestamp year 33658 (12 digits)',
      status: 401,
      reason: R.window,
      body,
      headers: { ...sign(body), 'wechatpay-timestamp': '999999999999' },
    });
    add({
      name: 'stale replay on the bare path',
      status: 401,
      reason: R.window,
      path: BARE_PATH,
      body,
      headers: () => sign(body, { t: now() - 400 }),
    });
    const headers = sign(body);
    add({
      name: 'timestamp in milliseconds',
      status: 400,
      reason: R.timestamp,
      body,
      headers: { ...headers, 'wechatpay-timestamp': String(Date.now()) },
    });
    add({
      name: 'non-numeric timestamp',
      status: 400,
      reason: R.timestamp,
      body,
      headers: { ...headers, 'wechatpay-timestamp': 'soon' },
    });
    add({
      name: 'negative timestamp',
      status: 400,
      reason: R.timestamp,
      body,
      headers: { ...headers, 'wechatpay-timestamp': `-${now()}` },
    });
    add({
      name: 'fractional timestamp',
      status: 400,
      reason: R.timestamp,
      body,
      headers: { ...headers, 'wechatpay-timestamp': `${now()}.5` },
    });
    add({
      name: 'hex timestamp',
      status: 400,
      reason: R.timestamp,
      body,
      headers: { ...headers, 'wechatpay-timestamp': `0x${now().toString(16)}` },
    });
    add({
      name: 'ISO date as timestamp',
      status: 400,
      reason: R.timestamp,
      body,
      headers: { ...headers, 'wechatpay-timestamp': new Date().toISOString() },
    });
  }

  // Truncated.
  {
    const body = notification('truncated');
    const headers = sign(body);
    const signature = headers['wechatpay-signature']!;
    add({
      name: 'body truncated after signing',
      status: 401,
      reason: R.mismatch,
      body: body.slice(0, body.length - 20),
      headers,
    });
    add({
      name: 'signature truncated to half',
      status: 401,
      reason: R.malformed,
      body,
      headers: { ...headers, 'wechatpay-signature': signature.slice(0, 172) },
    });
    add({
      name: 'signature missing its last character',
      status: 401,
      reason: R.malformed,
      body,
      headers: { ...headers, 'wechatpay-signature': signature.slice(0, -1) },
    });
    add({
      name: 'signature missing its last 4 characters (valid base64, 253 bytes)',
      status: 401,
      reason: R.malformed,
      body,
      headers: { ...headers, 'wechatpay-signature': signature.slice(0, -4) },
    });
    const cut = body.slice(0, 40);
    add({ name: 'truncated JSON, signed', status: 400, reason: R.notJson, body: cut, headers: sign(cut) });
    add({ name: 'empty body, signed', status: 400, reason: R.notJson, body: '', headers: sign('') });
  }

  // Oversize: the size is checked first, before any hashing.
  {
    const huge = notification('oversize', shop, { padding: 'x'.repeat(MAX_BODY_BYTES) });
    add({ name: 'oversize signed body', status: 413, reason: R.tooLarge, body: huge, headers: sign(huge) });
    add({ name: 'oversize unsigned body', status: 413, reason: R.tooLarge, body: huge });
    add({
      name: 'oversize body on an unknown merchant path',
      status: 413,
      reason: R.tooLarge,
      path: '/webhooks/wechatpay/nobody',
      body: huge,
      headers: sign(huge),
    });
    const base = notification('one-over', shop, { padding: '' });
    const exact = base.replace(
      '"padding":""',
      `"padding":"${'y'.repeat(MAX_BODY_BYTES + 1 - Buffer.byteLength(base))}"`,
    );
    if (Buffer.byteLength(exact) !== MAX_BODY_BYTES + 1) throw new Error('one-over body has the wrong size');
    add({
      name: 'one byte over the limit, signed',
      status: 413,
      reason: R.tooLarge,
      body: exact,
      headers: sign(exact),
    });
    const multibyte = `"${'支'.repeat(Math.ceil(MAX_BODY_BYTES / 3))}"`; // fewer characters than the limit, more bytes
    add({
      name: 'oversize in bytes but not in characters (CJK)',
      status: 413,
      reason: R.tooLarge,
      body: multibyte,
      headers: sign(multibyte),
    });
    const gatewayLimit = Buffer.alloc(11 * 1024 * 1024, 0x20);
    add({
      name: 'beyond the gateway payload limit (11 MiB)',
      status: 413,
      by: 'gateway',
      body: gatewayLimit,
      headers: sign('{}'),
    });
  }

  // Wrong encodings, each signed over the exact bytes sent: the signature verifies, the body must not be taken.
  {
    const text = notification('encoding', shop, { summary: 'café' });
    const signed = (name: string, bytes: Buffer, contentType = 'application/json') =>
      add({ name, status: 400, reason: R.notJson, body: bytes, headers: sign(bytes), contentType });
    signed('latin-1 body', Buffer.from(text, 'latin1'));
    signed(
      'latin-1 body as application/octet-stream',
      Buffer.from(text, 'latin1'),
      'application/octet-stream',
    );
    signed('UTF-16LE body', Buffer.from(text, 'utf16le'));
    signed(
      'UTF-16LE body with its BOM',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    );
    signed('UTF-16BE body', Buffer.from(text, 'utf16le').swap16());
    signed(
      'UTF-8 BOM signed with the body',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
    );
    const at = text.indexOf('café');
    const splice = (bytes: number[]) =>
      Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bytes), Buffer.from(text.slice(at))]);
    signed('invalid UTF-8 sequence (C3 28)', splice([0xc3, 0x28]));
    signed('overlong UTF-8 (C0 AF)', splice([0xc0, 0xaf]));
    signed('CESU-8 encoded surrogate (ED A0 80)', splice([0xed, 0xa0, 0x80]));
    signed(
      'truncated multi-byte sequence at the end',
      Buffer.concat([Buffer.from(text), Buffer.from([0xe6, 0x94])]),
    );
  }

  // Header injection and duplication, over a raw socket. API Gateway joins repeated headers with commas.
  {
    const body = notification('raw');
    const headers = sign(body);
    const genuine = lines(headers);
    const drop = (name: string) => lines(without(headers, name));
    const sig = headers['wechatpay-signature']!;
    add({
      name: 'CRLF injection smuggling a second Content-Length',
      status: 400,
      by: 'http',
      body,
      raw: [...genuine, 'Wechatpay-Nonce: x\r\nContent-Length: 0'],
    });
    add({
      name: 'CRLF injection smuggling a second Wechatpay-Signature',
      status: 400,
      reason: R.duplicated,
      body,
      raw: [...drop('wechatpay-signature'), `Wechatpay-Signature: garbage\r\nWechatpay-Signature: ${sig}`],
    });
    add({
      name: 'duplicated Wechatpay-Signature (genuine, then garbage)',
      status: 400,
      reason: R.duplicated,
      body,
      raw: [...genuine, 'Wechatpay-Signature: Z2FyYmFnZQ=='],
    });
    add({
      name: 'duplicated Wechatpay-Signature (genuine twice)',
      status: 400,
      reason: R.duplicated,
      body,
      raw: [...genuine, `Wechatpay-Signature: ${sig}`],
    });
    add({
      name: 'duplicated Wechatpay-Serial (same serial twice)',
      status: 400,
      reason: R.duplicated,
      body,
      raw: [...genuine, `Wechatpay-Serial: ${shop.keys[0].serial}`],
    });
    add({
      name: 'duplicated Wechatpay-Serial (both merchants) on the bare path',
      status: 400,
      reason: R.duplicated,
      path: BARE_PATH,
      body,
      raw: [...genuine, `Wechatpay-Serial: ${kiosk.keys[0].serial}`],
    });
    add({
      name: 'duplicated Wechatpay-Nonce',
      status: 400,
      reason: R.duplicated,
      body,
      raw: [...genuine, 'Wechatpay-Nonce: 0123456789ABCDEF'],
    });
    add({
      name: 'duplicated Wechatpay-Timestamp',
      status: 400,
      reason: R.duplicated,
      body,
      raw: [...genuine, `Wechatpay-Timestamp: ${headers['wechatpay-timestamp']}`],
    });
    add({
      name: 'bare CR inside a header value',
      status: 400,
      by: 'http',
      body,
      raw: [...drop('wechatpay-nonce'), 'Wechatpay-Nonce: abc\rWechatpay-Serial: x'],
    });
    add({
      name: 'obs-fold continuation of the signature',
      status: 400,
      by: 'http',
      body,
      raw: [
        ...drop('wechatpay-signature'),
        `Wechatpay-Signature: ${sig.slice(0, 100)}`,
        ` ${sig.slice(100)}`,
      ],
    });
    add({
      name: 'header name with a space',
      status: 400,
      by: 'http',
      body,
      raw: [...drop('wechatpay-signature'), `Wechatpay Signature: ${sig}`],
    });
    add({
      name: 'non-ASCII bytes in the nonce',
      status: 400,
      reason: R.token('wechatpay-nonce'),
      body,
      raw: [...drop('wechatpay-nonce'), 'Wechatpay-Nonce: \u00e9\u00e9\u00e9'],
    });
  }

  // Missing, empty and misnamed headers.
  {
    const body = notification('headers');
    const headers = sign(body);
    for (const name of [
      'wechatpay-timestamp',
      'wechatpay-nonce',
      'wechatpay-signature',
      'wechatpay-serial',
    ]) {
      add({
        name: `missing ${name}`,
        status: 400,
        reason: R.missing(name),
        body,
        headers: without(headers, name),
      });
      add({
        name: `empty ${name}`,
        status: 400,
        reason: R.missing(name),
        body,
        headers: { ...headers, [name]: '' },
      });
    }
    add({
      name: 'missing wechatpay-serial on the bare path',
      status: 400,
      reason: R.missing('wechatpay-serial'),
      path: BARE_PATH,
      body,
      headers: without(headers, 'wechatpay-serial'),
    });
    add({
      name: 'no signature headers at all (bare path)',
      status: 400,
      reason: R.missing('wechatpay-timestamp'),
      path: BARE_PATH,
      body,
    });
    add({
      name: 'underscores instead of dashes in the names',
      status: 400,
      reason: R.missing('wechatpay-timestamp'),
      body,
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.replace(/-/g, '_'), v])),
    });
    add({
      name: 'misspelt header names (wechat-pay-…)',
      status: 400,
      reason: R.missing('wechatpay-timestamp'),
      body,
      headers: Object.fromEntries(
        Object.entries(headers).map(([k, v]) => [k.replace('wechatpay-', 'wechat-pay-'), v]),
      ),
    });
    add({
      name: 'empty wechatpay-signature-type',
      status: 400,
      reason: R.signatureType,
      body,
      headers: { ...headers, 'wechatpay-signature-type': '' },
    });
    add({
      name: 'signature type WECHATPAY2-SHA1-RSA2048',
      status: 400,
      reason: R.signatureType,
      body,
      headers: { ...headers, 'wechatpay-signature-type': 'WECHATPAY2-SHA1-RSA2048' },
    });
    add({
      name: 'signature type WECHATPAY2-SM2-WITH-SM3',
      status: 400,
      reason: R.signatureType,
      body,
      headers: { ...headers, 'wechatpay-signature-type': 'WECHATPAY2-SM2-WITH-SM3' },
    });
    add({
      name: 'signature type in lower case',
      status: 400,
      reason: R.signatureType,
      body,
      headers: { ...headers, 'wechatpay-signature-type': 'wechatpay2-sha256-rsa2048' },
    });
    add({
      name: 'serial with a space',
      status: 400,
      reason: R.token('wechatpay-serial'),
      body,
      headers: { ...headers, 'wechatpay-serial': 'PUB KEY' },
    });
    add({
      name: 'serial of 200 characters',
      status: 400,
      reason: R.token('wechatpay-serial'),
      body,
      headers: { ...headers, 'wechatpay-serial': 'A'.repeat(200) },
    });
    add({
      name: 'nonce with a space',
      status: 400,
      reason: R.token('wechatpay-nonce'),
      body,
      headers: { ...headers, 'wechatpay-nonce': 'a b' },
    });
    add({
      name: 'nonce of 200 characters',
      status: 400,
      reason: R.token('wechatpay-nonce'),
      body,
      headers: { ...headers, 'wechatpay-nonce': 'n'.repeat(200) },
    });
  }

  // Unknown serials and merchants, routes and methods.
  {
    const body = notification('routing');
    const unknown = {
      serial: 'PUB_KEY_ID_0000000000000000000000000000',
      privateKey: shop.keys[0].privateKey,
    };
    add({
      name: 'unknown serial on the merchant path',
      status: 401,
      reason: R.serial,
      body,
      headers: sign(body, { key: unknown }),
    });
    add({
      name: 'unknown serial on the bare path',
      status: 401,
      reason: R.serial,
      path: BARE_PATH,
      body,
      headers: sign(body, { key: unknown }),
    });
    add({
      name: 'unknown certificate serial (hex) on the bare path',
      status: 401,
      reason: R.serial,
      path: BARE_PATH,
      body,
      headers: sign(body, { key: { ...unknown, serial: 'ABCDEF0123456789' } }),
    });
    add({
      name: 'merchant certificate serial (not a WeChat Pay key)',
      status: 401,
      reason: R.serial,
      body,
      headers: sign(body, { key: { ...unknown, serial: shop.merchantCertificateSerial } }),
    });
    // Unknown merchant ids are answered as a known merchant path with a serial it does not list (401, the
    // unknown-serial message), never "no merchant … is configured": the answer must not tell which ids exist.
    add({
      name: 'unknown merchant path',
      status: 401,
      reason: R.serial,
      path: '/webhooks/wechatpay/nobody',
      body,
      headers: sign(body),
    });
    add({
      name: 'merchant path in the wrong case',
      status: 401,
      reason: R.serial,
      path: `/webhooks/wechatpay/${shop.id.toUpperCase()}`,
      body,
      headers: sign(body),
    });
    add({
      name: 'unknown mchid in the path',
      status: 401,
      reason: R.serial,
      path: `/webhooks/wechatpay/${Number(kiosk.mchid) + 7}`,
      body,
      headers: sign(body),
    });
    add({
      name: 'trailing slash',
      status: 404,
      by: 'gateway',
      path: `${SHOP_PATH}/`,
      body,
      headers: sign(body),
    });
    add({
      name: 'extra path segment',
      status: 404,
      by: 'gateway',
      path: `${SHOP_PATH}/notify`,
      body,
      headers: sign(body),
    });
    add({
      name: 'GET on the merchant path',
      status: 404,
      by: 'gateway',
      method: 'GET',
      body: '',
      headers: sign(body),
    });
    add({
      name: 'GET on the bare path',
      status: 404,
      by: 'gateway',
      method: 'GET',
      path: BARE_PATH,
      body: '',
      headers: sign(body),
    });
    add({
      name: 'PUT on the merchant path',
      status: 404,
      by: 'gateway',
      method: 'PUT',
      body,
      headers: sign(body),
    });
    add({
      name: 'PATCH on the bare path',
      status: 404,
      by: 'gateway',
      method: 'PATCH',
      path: BARE_PATH,
      body,
      headers: sign(body),
    });
  }

  // Valid signatures over bodies that are not notifications.
  {
    const signed = (name: string, body: string, reason: RegExp = R.notNotification) =>
      add({ name, status: 400, reason, body, headers: sign(body) });
    signed('JSON bomb: 90k nested arrays', `${'['.repeat(90_000)}${']'.repeat(90_000)}`);
    signed('JSON bomb: 30k nested objects', `${'{"a":'.repeat(30_000)}1${'}'.repeat(30_000)}`);
    signed('JSON with 15k keys', `{${Array.from({ length: 15_000 }, (_, i) => `"k${i}":0`).join(',')}}`);
    signed('a 150k-digit number', '9'.repeat(150_000));
    signed('1e400 (Infinity)', '1e400');
    signed('id as 1e400', notification('x').replace('"id":"EV-bad-x"', '"id":1e400'));
    signed(
      'id as a 30-digit integer',
      notification('x').replace('"id":"EV-bad-x"', '"id":123456789012345678901234567890'),
    );
    signed('lone surrogate (escaped) in a non-notification', '{"id":"\\ud800","note":"\\udfff"}');
    signed(
      'RTL override marks in a non-notification',
      JSON.stringify({ id: '\u202eEV-evil\u202c', summary: '\u200f\u061c' }),
    );
    signed('literal NUL inside a JSON string', '{"id":"EV-\u0000"}', R.notJson);
    signed('escaped NUL as the whole body', '"\\u0000"');
    signed('array', '[]');
    signed('array holding a notification', `[${notification('in-array')}]`);
    signed('number', '1');
    signed('string', '"EV-bad-string"');
    signed('null', 'null');
    signed('true', 'true');
    signed('form-encoded body', 'return_code=SUCCESS&total_fee=1', R.notJson);
    signed('XML body (APIv2 style)', '<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>', R.notJson);
    const full = JSON.parse(notification('shape')) as Record<string, unknown>;
    const shape = (name: string, mutate: (n: Record<string, unknown>) => void) => {
      const copy = structuredClone(full);
      mutate(copy);
      signed(`notification ${name}`, JSON.stringify(copy));
    };
    const resource = (n: Record<string, unknown>) => n.resource as Record<string, unknown>;
    shape('without id', (n) => delete n.id);
    shape('without resource', (n) => delete n.resource);
    shape('without event_type', (n) => delete n.event_type);
    shape('without create_time', (n) => delete n.create_time);
    shape('without resource_type', (n) => delete n.resource_type);
    shape('with an empty id', (n) => (n.id = ''));
    shape('with a numeric id', (n) => (n.id = 42));
    shape('with an object event_type', (n) => (n.event_type = { type: 'TRANSACTION.SUCCESS' }));
    shape('with create_time without an offset', (n) => (n.create_time = '2025-03-01 09:15:03'));
    shape('with the resource as a string', (n) => (n.resource = resource(n).ciphertext));
    shape('with algorithm AEAD_AES_128_GCM', (n) => (resource(n).algorithm = 'AEAD_AES_128_GCM'));
    shape('without resource.ciphertext', (n) => delete resource(n).ciphertext);
    shape('without resource.nonce', (n) => delete resource(n).nonce);
    shape('without resource.original_type', (n) => delete resource(n).original_type);
  }

  // Content types with forged signatures: the content type is not signed; the signature decides.
  {
    const body = notification('content-type');
    const forged = sign(body, { key: { serial: shop.keys[0].serial, privateKey: attacker.privateKey } });
    for (const contentType of [
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/xml',
      null,
    ]) {
      add({
        name: `${contentType ?? 'no content type'} with a forged signature`,
        status: 401,
        reason: R.mismatch,
        body,
        headers: forged,
        contentType,
      });
    }
  }

  // Probes: a failure counted as CallbackProbe, whatever else is wrong with the request after the signature type.
  {
    const body = notification('probe');
    const probe = (suffix: string) => `${SIGNTEST_PREFIX}${suffix}`;
    const headers = sign(body);
    add({
      name: 'probe: SIGNTEST with random base64',
      status: 401,
      reason: R.probe,
      probe: true,
      body,
      headers: { ...headers, 'wechatpay-signature': probe(crypto.randomBytes(32).toString('base64')) },
    });
    add({
      name: 'probe: SIGNTEST prefix alone',
      status: 401,
      reason: R.probe,
      probe: true,
      body,
      headers: { ...headers, 'wechatpay-signature': probe('') },
    });
    add({
      name: 'probe: on the bare path with an unknown serial',
      status: 401,
      reason: R.probe,
      probe: true,
      path: BARE_PATH,
      body,
      headers: {
        ...headers,
        'wechatpay-serial': 'PUB_KEY_ID_0000000000000000000000000000',
        'wechatpay-signature': probe('AAAA'),
      },
    });
    add({
      name: 'probe: with a stale timestamp',
      status: 401,
      reason: R.probe,
      probe: true,
      body,
      headers: () => ({ ...sign(body, { t: now() - 400 }), 'wechatpay-signature': probe('AAAA') }),
    });
    add({
      name: 'probe: with a non-JSON body',
      status: 401,
      reason: R.probe,
      probe: true,
      body: 'probe',
      headers: { ...headers, 'wechatpay-signature': probe('AAAA') },
    });
    add({
      name: 'probe: the other merchant on the bare path',
      status: 401,
      reason: R.probe,
      probe: true,
      path: BARE_PATH,
      body,
      headers: { ...sign(body, { key: kiosk.keys[1] }), 'wechatpay-signature': probe('AAAA') },
    });
  }

  // Garbage in the signature header.
  {
    const body = notification('garbage');
    const headers = sign(body);
    const sig = headers['wechatpay-signature']!;
    const garbage = (name: string, value: string) =>
      add({
        name,
        status: 401,
        reason: R.malformed,
        body,
        headers: { ...headers, 'wechatpay-signature': value },
      });
    garbage('signature "!!!!"', '!!!!');
    garbage(
      'url-safe unpadded base64 of the right signature',
      sig.replace(/[+/=]/g, (c) => ({ '+': '-', '/': '_', '=': '' })[c]!),
    );
    garbage('base64 with a space inside', `${sig.slice(0, 100)} ${sig.slice(100)}`);
    garbage('base64 of 255 bytes', crypto.randomBytes(255).toString('base64'));
    garbage('base64 of 512 bytes', crypto.randomBytes(512).toString('base64'));
    garbage('hex instead of base64', Buffer.from(sig, 'base64').toString('hex'));
    garbage('"Bearer " prefix', `Bearer ${sig}`);
    garbage(
      'signature with an RSA-1024 key',
      crypto
        .sign(
          'RSA-SHA256',
          notificationMessage(headers['wechatpay-timestamp']!, headers['wechatpay-nonce']!, body),
          smallKey.privateKey,
        )
        .toString('base64'),
    );
  }
  return list;
}

interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
}

async function send(c: Case): Promise<Answer> {
  const route = c.path ?? SHOP_PATH;
  const url = `${stack.gatewayUrl}${route}`;
  const body = typeof c.body === 'string' ? Buffer.from(c.body, 'utf8') : c.body;
  const contentType = c.contentType === undefined ? 'application/json' : c.contentType;
  if (c.raw) {
    const head = [
      `${c.method ?? 'POST'} ${route} HTTP/1.1`,
      ...(contentType ? [`Content-Type: ${contentType}`] : []),
      ...c.raw,
    ];
    const answer = await rawExchange(url, head, body);
    return { status: answer.status, contentType: answer.headers['content-type'], body: answer.body };
  }
  const headers: Record<string, string> = {
    'user-agent': 'Mozilla/4.0',
    ...(typeof c.headers === 'function' ? c.headers() : c.headers),
  };
  if (contentType) headers['content-type'] = contentType;
  const method = c.method ?? 'POST';
  const response = await fetch(url, { method, headers, ...(method === 'GET' ? {} : { body }) });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? undefined,
    body: await response.text(),
  };
}

const GATEWAY_BODIES: Record<number, unknown> = {
  404: { message: 'Not Found' },
  413: { message: 'Request Entity Too Large' },
};

describe('WeChat Pay bad-input corpus through the gateway', () => {
  const corpus = cases();
  it('has at least 60 distinct cases', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
  });

  it.each(corpus.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const answer = await send(c);
    expect(answer.status).toBe(c.status);
    const by = c.by ?? 'handler';
    if (by === 'handler') {
      expect(answer.contentType).toBe('application/json');
      expect(JSON.parse(answer.body)).toEqual({
        code: 'FAIL',
        message: expect.stringMatching(c.reason ?? /./),
      });
    } else if (by === 'gateway') {
      expect(JSON.parse(answer.body)).toEqual(GATEWAY_BODIES[c.status]);
    } else {
      expect(answer.body).not.toMatch(/FAIL/);
    }
  });

  it('let nothing through to the queue or the ledger, and counted probes apart', async () => {
    const { ingress } = stack.metrics;
    const keys = [...ingress.counts.keys()];
    expect(keys.filter((key) => !/^Callback(Rejected|Probe)\{provider=wechatpay/.test(key))).toEqual([]);
    expect(ingress.total('CallbackAccepted')).toBe(0);
    const handled = corpus.filter((c) => (c.by ?? 'handler') === 'handler');
    expect(ingress.total('CallbackProbe')).toBe(handled.filter((c) => c.probe).length);
    expect(ingress.total('CallbackRejected')).toBe(handled.filter((c) => !c.probe).length);
    expect(await stack.queues.depth(stack.queues.queueUrl)).toBe(0);
    expect(await stack.queues.depth(stack.queues.dlqUrl)).toBe(0);
    expect(await stack.sql`select 1 from inbox_events`).toEqual([]);
    expect(stack.poller.stats.received).toBe(0);
  });

  // Positive controls, not part of the corpus: header names in any case are the same header (API Gateway
  // lower-cases them), and the endpoint still accepts a genuine notification after all of the above.
  it('still accepts genuine notifications afterwards, with header names in any case', async () => {
    const variants = {
      genuine: (h: Record<string, string>) => h,
      lower: (h: Record<string, string>) =>
        Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v])),
      upper: (h: Record<string, string>) =>
        Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v])),
      mixed: (h: Record<string, string>) =>
        Object.fromEntries(
          Object.entries(h).map(([k, v]) => [
            [...k].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join(''),
            v,
          ]),
        ),
    };
    const ids: string[] = [];
    for (const [label, transform] of Object.entries(variants)) {
      for (const [route, key] of [
        [SHOP_PATH, shop.keys[0]],
        [BARE_PATH, kiosk.keys[1]],
      ] as const) {
        const merchant = key === shop.keys[0] ? shop : kiosk;
        const id = `EV-good-${label}-${merchant.id}`;
        const body = encodeNotification({ ...specs.get(merchant.id)!, id }, merchant.apiv3Key);
        const response = await fetch(`${stack.gatewayUrl}${route}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...transform(signNotification(body, key, now())) },
          body,
        });
        expect({ label, route, status: response.status, body: await response.text() }).toEqual({
          label,
          route,
          status: 204,
          body: '',
        });
        ids.push(id);
      }
    }
    expect(stack.metrics.ingress.total('CallbackAccepted')).toBe(ids.length);
    await stack.drain();
    const rows = await stack.sql<{ event_id: string }[]>`select event_id from inbox_events order by event_id`;
    expect(rows.map((r) => r.event_id)).toEqual([...ids].sort());
  });

  // Moved out of the corpus ("mchid instead of the merchant id in the path" was a 400): docs/deploy.md tells
  // operators to put the mchid in notify_url, so /webhooks/wechatpay/{mchid} routes like /{id}.
  it('routes /webhooks/wechatpay/{mchid} like /webhooks/wechatpay/{id}', async () => {
    const before = stack.metrics.ingress.total('CallbackAccepted');
    const ids: string[] = [];
    for (const merchant of [shop, kiosk]) {
      const id = `EV-mchid-path-${merchant.id}`;
      const body = encodeNotification({ ...specs.get(merchant.id)!, id }, merchant.apiv3Key);
      const response = await fetch(`${stack.gatewayUrl}/webhooks/wechatpay/${merchant.mchid}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signNotification(body, merchant.keys[0], now()) },
        body,
      });
      expect({ mchid: merchant.mchid, status: response.status }).toEqual({
        mchid: merchant.mchid,
        status: 204,
      });
      ids.push(id);
    }
    expect(stack.metrics.ingress.total('CallbackAccepted') - before).toBe(2);
    await stack.drain();
    const rows = await stack.sql<{ event_id: string }[]>`
      select event_id from inbox_events where event_id like 'EV-mchid-path-%' order by event_id`;
    expect(rows.map((r) => r.event_id)).toEqual([...ids].sort());
  });
});
