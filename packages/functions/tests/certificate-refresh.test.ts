// A WeChat Pay platform-certificate rotation end to end, on real parts: the provider sandbox serves
// `/v3/certificates` in the wire format (AES-256-GCM under the APIv3 key, signed answers), the refresher stores
// what it lists in the verify file the webhook reads, and the webhook picks it up on its TTL without blocking a
// request: the old certificate keeps verifying during the overlap and stops once WeChat no longer lists it.
import type crypto from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '@payhooks/core/logger';
import type { Clock, Queue } from '@payhooks/core/ports';
import { WECHATPAY_CODES } from '@payhooks/core/providers/wechatpay';
import {
  type ProviderSandbox,
  type SandboxPlatformCertificate,
  sandboxMerchantsFromGenerated,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { prng } from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  generateSandboxMerchants,
  type SandboxMerchants,
} from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { WechatpayHistory } from '@payhooks/testkit/sandbox/wechatpay-scenario';
import { encodeNotification, signNotification } from '@payhooks/testkit/sandbox/wechatpay-sender';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../src/adapters/metrics.ts';
import type { Env } from '../src/config.ts';
import { createCertificateRefreshHandler } from '../src/wiring/certificates.ts';
import { withoutFullMerchants, writeMerchantPartFiles } from '../src/wiring/merchants.ts';
import { createWechatpayWebhook } from '../src/wiring/wechatpay-ingress.ts';

const logger = createLogger({ name: 'test', destination: pino.destination('/dev/null') });
const TTL_SECONDS = 60;

let dir: string;
let generated: SandboxMerchants;
let sandbox: ProviderSandbox;
let offsetMs: number;
const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };
let env: Env;

beforeEach(async () => {
  offsetMs = 0;
  [dir, generated] = await Promise.all([
    mkdtemp(path.join(os.tmpdir(), 'payhooks-certs-')),
    generateSandboxMerchants(),
  ]);
  sandbox = await startProviderSandbox({
    wechatpay: { merchants: sandboxMerchantsFromGenerated(generated) },
    clock,
  });
  const files = await writeMerchantPartFiles(JSON.stringify(generated.document), dir);
  env = withoutFullMerchants({
    ...files.verify,
    ...files.decrypt,
    ...files.sign,
    WECHATPAY_API_BASE_URL: sandbox.url,
    WECHATPAY_VERIFY_REFRESH_SECONDS: String(TTL_SECONDS),
  });
});
afterEach(async () => {
  await sandbox?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

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

let order = 0;
/** A signed TRANSACTION.SUCCESS notification of merchant 0 on its per-merchant path. */
function callback(key: { serial: string; privateKey: crypto.KeyObject }): APIGatewayProxyEventV2 {
  const merchant = generated.merchants[0]!;
  const seconds = Math.floor(clock.now().getTime() / 1000);
  order += 1;
  const history = new WechatpayHistory(prng(order));
  history.payment(merchant, `ORDER-${order}`, seconds - 60, { amountMinor: 100 });
  const body = encodeNotification(history.notifications[0]!, merchant.apiv3Key);
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/wechatpay/{merchant}',
    rawPath: `/webhooks/wechatpay/${merchant.id}`,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...signNotification(body, key, seconds) },
    body,
    isBase64Encoded: false,
    pathParameters: { merchant: merchant.id },
    requestContext: { requestId: `req-${order}` },
  } as unknown as APIGatewayProxyEventV2;
}

const signing = (certificate: SandboxPlatformCertificate) => ({
  serial: certificate.serial,
  privateKey: certificate.privateKey,
});

async function storedSerials(): Promise<string[]> {
  const file = env.WECHATPAY_MERCHANTS_VERIFY_FILE!;
  const document = JSON.parse(await readFile(file, 'utf8')) as {
    merchants: { id: string; verificationKeys: Record<string, string> }[];
  };
  const part = document.merchants.find((m) => m.id === generated.merchants[0]!.id)!;
  return Object.keys(part.verificationKeys).sort();
}

describe('platform certificate refresh', () => {
  it('rotates end to end: new certificate stored, picked up on the TTL, old accepted during the overlap', async () => {
    // Prepare
    const merchant = generated.merchants[0]!;
    const [publicKeyMode, oldCertificate] = merchant.keys;
    const metrics = new MemoryMetrics();
    const refresh = createCertificateRefreshHandler(env, { clock, logger, metrics });
    const queue = recordingQueue();
    const webhookMetrics = new MemoryMetrics();
    const { handler, verificationKeys } = createWechatpayWebhook(
      // The queue is the recording one below; the variable only has to be set.
      { ...env, QUEUE_URL: 'http://127.0.0.1:9/queue/unused' },
      {
        queue,
        clock,
        logger,
        metrics: webhookMetrics,
      },
    );

    // Before any rotation: the listed certificate is the configured one, nothing is written.
    const first = await refresh();
    expect(first.find((o) => o.id === merchant.id)?.outcome).toBe('unchanged');
    expect((await handler(callback(oldCertificate))).statusCode).toBe(204);

    // Act: WeChat Pay lists a new certificate and starts signing its answers with it.
    const rotated = sandbox.wechatpay!.rotatePlatformCertificate(merchant.mchid, { signWithNew: true });
    const second = await refresh();

    // Assess: stored next to the old one (the answer, signed by the new certificate, still verified).
    const outcome = second.find((o) => o.id === merchant.id)!;
    expect(outcome).toMatchObject({ outcome: 'updated', added: [rotated.serial], removed: [] });
    expect(await storedSerials()).toEqual(
      [publicKeyMode.serial, oldCertificate.serial, rotated.serial].sort(),
    );
    expect(metrics.total('PlatformCertificatesUpdated')).toBe(1);

    // Within the TTL the container still holds the old keys: the new signature is an unknown serial (401).
    const early = await handler(callback(signing(rotated)));
    expect(early.statusCode).toBe(401);
    expect(webhookMetrics.total(`CallbackRejected`)).toBe(1);
    expect(
      webhookMetrics.counts.get(
        `CallbackRejected{provider=wechatpay,reason=${WECHATPAY_CODES.unknownSerial}}`,
      ),
    ).toBe(1);

    // Past the TTL, a request starts the re-read without waiting for it; once read, both keys verify.
    offsetMs += (TTL_SECONDS + 1) * 1000;
    await handler(callback(oldCertificate));
    await verificationKeys.settled();
    expect((await handler(callback(signing(rotated)))).statusCode).toBe(204);
    expect((await handler(callback(oldCertificate))).statusCode).toBe(204);

    // The overlap ends: WeChat lists only the new certificate; the refresher drops the old one.
    offsetMs += 25 * 3_600_000;
    sandbox.wechatpay!.retireExpiredPlatformCertificates(merchant.mchid);
    const third = await refresh();
    expect(third.find((o) => o.id === merchant.id)).toMatchObject({
      outcome: 'updated',
      removed: [oldCertificate.serial],
    });
    await handler(callback(signing(rotated)));
    await verificationKeys.settled();
    expect((await handler(callback(signing(rotated)))).statusCode).toBe(204);
    expect((await handler(callback(oldCertificate))).statusCode).toBe(401);
    expect((await handler(callback(publicKeyMode))).statusCode).toBe(204);
  });

  it('skips merchants in public-key mode and reports the days left of the soonest latest certificate', async () => {
    // Prepare: merchant 1 verifies with its PUB_KEY_ID_ key only.
    const kiosk = generated.document.merchants[1]!;
    const pubKeyId = generated.merchants[1]!.keys[0].serial;
    const document = {
      merchants: [
        generated.document.merchants[0]!,
        { ...kiosk, verificationKeys: { [pubKeyId]: kiosk.verificationKeys[pubKeyId]! } },
      ],
    };
    const files = await writeMerchantPartFiles(JSON.stringify(document), dir);
    const metrics = new MemoryMetrics();
    const refresh = createCertificateRefreshHandler(
      { ...env, ...files.verify, ...files.decrypt, ...files.sign },
      { clock, logger, metrics },
    );

    // Act
    const outcomes = await refresh();

    // Assess: the sandbox certificate is valid ~5 years, so the days left are far above the 7-day alarm.
    expect(outcomes.map((o) => [o.id, o.outcome])).toEqual([
      [generated.merchants[0]!.id, 'unchanged'],
      [generated.merchants[1]!.id, 'public-key-mode'],
    ]);
    expect(metrics.total('PlatformCertificateDaysLeft')).toBeGreaterThan(365 * 4);
  });

  it('keeps the stored keys and fails the run when the answer does not verify or decrypt', async () => {
    // Prepare
    const before = await storedSerials();
    const metrics = new MemoryMetrics();
    const refresh = createCertificateRefreshHandler(env, { clock, logger, metrics });
    const merchant = generated.merchants[0]!;

    // Act + Assess: an answer signed by an unknown key (not one of the listed certificates either).
    sandbox.wechatpay!.faults.nextAnswer = 'wrong-key';
    await expect(refresh()).rejects.toMatchObject({
      code: 'WECHATPAY_CERTIFICATE_REFRESH_FAILED',
      failed: [merchant.id],
    });
    // A certificate encrypted under another APIv3 key fails the GCM tag check.
    sandbox.wechatpay!.rotatePlatformCertificate(merchant.mchid);
    sandbox.wechatpay!.faults.certificatesUnderWrongKey = true;
    await expect(refresh()).rejects.toMatchObject({
      failed: generated.merchants.map((m) => m.id),
    });

    expect(await storedSerials()).toEqual(before);
    expect(metrics.total('PlatformCertificateRefreshFailed')).toBe(3);
  });
});
