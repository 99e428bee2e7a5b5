// Case 6 — for the record, no target: the community SDK wechatpay-node-v3 (verifySign, decipher_gcm) on the same
// notifications as case 1, next to raw node:crypto and next to payhooks' own verifyNotification / decryptResource.
// Its verifySign looks the platform key up as PEM text in a static map and parses it on every call (keys are
// preloaded here, so no network); its decipher_gcm never calls final(), so it does not check the GCM tag.
import crypto from 'node:crypto';
import {
  decryptResource,
  type EncryptedResource,
  normalizeSerial,
  verifyNotification,
} from '@payhooks/core/providers/wechatpay';
import Pay from 'wechatpay-node-v3';
import { wechatpayTraffic } from '../fixtures.ts';
import { pick } from '../sizes.ts';
import { now, pairedRow } from '../stats.ts';
import type { CaseOptions, CaseResult } from '../types.ts';

async function rate(count: number, fn: (i: number) => unknown): Promise<number> {
  const start = now();
  for (let i = 0; i < count; i++) await fn(i);
  return count / ((now() - start) / 1000);
}

async function paired(
  count: number,
  reps: number,
  measured: (i: number) => unknown,
  baseline: (i: number) => unknown,
) {
  await rate(Math.max(10, count >> 2), measured);
  await rate(Math.max(10, count >> 2), baseline);
  const out: { measured: number; baseline: number }[] = [];
  for (let r = 0; r < reps; r++) {
    const first = r % 2 === 0;
    const a = await rate(count, first ? measured : baseline);
    const b = await rate(count, first ? baseline : measured);
    out.push(first ? { measured: a, baseline: b } : { measured: b, baseline: a });
  }
  return out;
}

export async function runWechatpayNodeV3(options: CaseOptions): Promise<CaseResult> {
  const started = now();
  const size = pick(options, {
    full: { verify: 1500, decrypt: 6000, reps: 5, distinct: 300 },
    quick: { verify: 400, decrypt: 2000, reps: 3, distinct: 100 },
    tiny: { verify: 20, decrypt: 40, reps: 2, distinct: 10 },
  });
  const traffic = await wechatpayTraffic(size.distinct);
  const sandbox = traffic.sandbox.merchants;
  const first = sandbox[0]!;
  const merchantConfig = traffic.sandbox.document.merchants[0]!;
  const pay = new Pay({
    appid: first.appid,
    mchid: first.mchid,
    serial_no: first.merchantCertificateSerial,
    publicKey: Buffer.from(merchantConfig.verificationKeys[first.keys[0].serial]!),
    privateKey: Buffer.from(merchantConfig.privateKey),
    key: first.apiv3Key,
  });
  // Preload the platform keys the SDK would otherwise download from /v3/certificates.
  const certificates = (Pay as unknown as { certificates: Record<string, string> }).certificates;
  const keys = new Map<string, crypto.KeyObject>();
  const apiv3 = new Map<string, string>();
  for (const merchant of sandbox) {
    apiv3.set(merchant.id, merchant.apiv3Key);
    for (const key of merchant.keys) {
      certificates[key.serial] = key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      keys.set(normalizeSerial(key.serial), key.publicKey);
    }
  }

  const messages = traffic.callbacks.map((c) => {
    const h = c.headers;
    const body = JSON.parse(c.body) as { resource: EncryptedResource & { associated_data: string } };
    const merchantId = c.path.split('/').pop()!;
    return {
      callback: c,
      rawBody: Buffer.from(c.body, 'utf8'),
      timestamp: h['wechatpay-timestamp']!,
      nonce: h['wechatpay-nonce']!,
      serial: h['wechatpay-serial']!,
      signature: h['wechatpay-signature']!,
      signatureBytes: Buffer.from(h['wechatpay-signature']!, 'base64'),
      message: Buffer.from(`${h['wechatpay-timestamp']}\n${h['wechatpay-nonce']}\n${c.body}\n`, 'utf8'),
      key: keys.get(normalizeSerial(h['wechatpay-serial']!))!,
      resource: body.resource,
      sealed: Buffer.from(body.resource.ciphertext, 'base64'),
      apiv3Key: apiv3.get(merchantId)!,
      apiv3KeyBytes: Buffer.from(apiv3.get(merchantId)!, 'utf8'),
    };
  });
  const at = (i: number) => messages[i % messages.length]!;

  const rawVerify = (i: number) => {
    const m = at(i);
    if (!crypto.verify('RSA-SHA256', m.message, m.key, m.signatureBytes))
      throw new Error('raw verify failed');
  };
  const sdkVerify = async (i: number) => {
    const m = at(i);
    const ok = await pay.verifySign({
      timestamp: m.timestamp,
      nonce: m.nonce,
      body: m.callback.body,
      serial: m.serial,
      signature: m.signature,
    });
    if (!ok) throw new Error('wechatpay-node-v3 verifySign returned false');
  };
  const ourVerify = (i: number) => {
    const m = at(i);
    verifyNotification({
      rawBody: m.rawBody,
      headers: m.callback.headers,
      verificationKeys: keys,
      now: new Date(),
      toleranceSeconds: 300,
    });
  };
  const rawDecrypt = (i: number) => {
    const m = at(i);
    const decipher = crypto.createDecipheriv(
      'aes-256-gcm',
      m.apiv3KeyBytes,
      Buffer.from(m.resource.nonce, 'utf8'),
      { authTagLength: 16 },
    );
    decipher.setAuthTag(m.sealed.subarray(m.sealed.length - 16));
    decipher.setAAD(Buffer.from(m.resource.associated_data, 'utf8'));
    Buffer.concat([decipher.update(m.sealed.subarray(0, m.sealed.length - 16)), decipher.final()]);
  };
  const sdkDecrypt = (i: number) => {
    const m = at(i);
    pay.decipher_gcm(m.resource.ciphertext, m.resource.associated_data, m.resource.nonce, m.apiv3Key);
  };
  const ourDecrypt = (i: number) => {
    const m = at(i);
    decryptResource(m.resource, m.apiv3KeyBytes);
  };

  options.log('case 6: verify');
  const sdkVerifyPairs = await paired(size.verify, size.reps, sdkVerify, rawVerify);
  const ourVerifyPairs = await paired(size.verify, size.reps, ourVerify, rawVerify);
  options.log('case 6: decrypt');
  const sdkDecryptPairs = await paired(size.decrypt, size.reps, sdkDecrypt, rawDecrypt);
  const ourDecryptPairs = await paired(size.decrypt, size.reps, ourDecrypt, rawDecrypt);

  return {
    case: 6,
    title: 'wechatpay-node-v3 on the same messages (for the record)',
    measuredIncludes:
      'wechatpay-node-v3 2.2.1 Pay#verifySign (PEM from its static certificate map, parsed per call; preloaded, no network) ' +
      'and Pay#decipher_gcm (no final(): the GCM tag is NOT checked, result JSON-parsed); for comparison payhooks ' +
      'verifyNotification (all header checks) and decryptResource (tag checked, no JSON parse).',
    baselineIncludes:
      "raw node:crypto: crypto.verify('RSA-SHA256') with a pre-parsed KeyObject; AES-256-GCM decipher with setAuthTag + final().",
    rows: [
      pairedRow('6 wechatpay-node-v3 verifySign', 'verifies/s', sdkVerifyPairs, null),
      pairedRow('6 payhooks verifyNotification', 'verifies/s', ourVerifyPairs, null),
      pairedRow(
        '6 wechatpay-node-v3 decipher_gcm',
        'decrypts/s',
        sdkDecryptPairs,
        null,
        'does not check the GCM tag',
      ),
      pairedRow('6 payhooks decryptResource', 'decrypts/s', ourDecryptPairs, null),
    ],
    details: {
      reps: size.reps,
      opsPerRep: { verify: size.verify, decrypt: size.decrypt },
      distinctMessages: size.distinct,
    },
    durationMs: now() - started,
  };
}
