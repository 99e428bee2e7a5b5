// Delivers a WeChat Pay scenario the way WeChat Pay does: each resource AES-256-GCM encrypted under the
// merchant's APIv3 key, the body signed SHA256-RSA with either the PUB_KEY_ID_ key or the platform certificate
// key, headers in WeChat's spelling (`Wechatpay-Signature`), retries of the same body with fresh signatures, the
// order shuffled; plus a WECHATPAY/SIGNTEST/ probe and forgeries that must be rejected with the status noted.

import crypto from 'node:crypto';
import {
  buildSignatureHeaders,
  encryptResource,
  SIGNATURE_TYPE,
  SIGNTEST_PREFIX,
} from '@payhooks/core/providers/wechatpay';
import { SandboxError } from '../errors.ts';
import { shuffle } from './stripe-scenario.ts';
import type { SandboxKey, SandboxMerchant } from './wechatpay-merchants.ts';
import type { WechatpayNotificationSpec, WechatpayScenario } from './wechatpay-scenario.ts';

export type WechatpayDeliveryKind =
  | 'genuine'
  | 'certificate-key'
  | 'duplicate'
  | 'probe'
  | 'forged-key'
  | 'forged-tampered'
  | 'forged-stale'
  | 'forged-serial'
  | 'forged-unsigned'
  | 'forged-signature-type'
  | 'forged-not-json'
  | 'forged-oversize';

export interface WechatpayDelivery {
  kind: WechatpayDeliveryKind;
  /** Notify id (or a label for bodies that have none). */
  eventId: string;
  path: string;
  body: string;
  headers: Record<string, string>;
  /** What ingress must answer. */
  expectedStatus: number;
}

export interface WechatpayDeliveryResult extends WechatpayDelivery {
  status: number;
}

/** The outer notification body with the resource encrypted (compact JSON, as WeChat sends it). */
export function encodeNotification(spec: WechatpayNotificationSpec, apiv3Key: string): string {
  return JSON.stringify({
    id: spec.id,
    create_time: spec.createTime,
    resource_type: 'encrypt-resource',
    event_type: spec.eventType,
    summary: spec.summary,
    resource: {
      original_type: spec.originalType,
      ...encryptResource(JSON.stringify(spec.resource), apiv3Key, { associatedData: spec.originalType }),
    },
  });
}

/** `wechatpay-signature` → `Wechatpay-Signature`: what WeChat puts on the wire (API Gateway lower-cases it). */
function wireCase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name.replace(/(^|-)([a-z])/g, (_, dash, c: string) => dash + c.toUpperCase()),
      value,
    ]),
  );
}

/** Signature headers for `body` at unix time `now`, signed with `key`. */
export function signNotification(
  body: string,
  key: Pick<SandboxKey, 'privateKey' | 'serial'>,
  now: number,
): Record<string, string> {
  return wireCase({
    ...buildSignatureHeaders({
      body,
      privateKey: key.privateKey,
      serial: key.serial,
      now: new Date(now * 1000),
    }),
  });
}

export interface WechatpayPlanOptions {
  merchants: readonly SandboxMerchant[];
  random: () => number;
  duplicateRate: number;
  forgeries: boolean;
  /** Unix seconds the signatures carry. */
  now: number;
  /** Merchant id → path; default: the first merchant on `/webhooks/wechatpay/{id}`, the others on the bare path. */
  pathFor?: (merchant: SandboxMerchant) => string;
  maxBodyBytes?: number;
}

export function planWechatpayDeliveries(
  scenario: WechatpayScenario,
  options: WechatpayPlanOptions,
): WechatpayDelivery[] {
  const { random, now, merchants } = options;
  const byId = new Map(merchants.map((m) => [m.id, m]));
  const first = merchants[0];
  if (!first)
    throw new SandboxError('SANDBOX_NO_MERCHANTS', 'planWechatpayDeliveries needs at least one merchant');
  const pathFor =
    options.pathFor ??
    ((m: SandboxMerchant) => (m === first ? `/webhooks/wechatpay/${m.id}` : '/webhooks/wechatpay'));
  const deliveries: WechatpayDelivery[] = [];

  scenario.notifications.forEach((spec, i) => {
    const merchant = byId.get(spec.merchantId);
    if (!merchant)
      throw new SandboxError(
        'SANDBOX_UNKNOWN_MERCHANT',
        `scenario names merchant ${spec.merchantId}, which the sandbox did not generate`,
      );
    const body = encodeNotification(spec, merchant.apiv3Key);
    const [publicKey, certificate] = merchant.keys;
    // Both key modes arrive during a migration: every third notification is signed with the platform certificate.
    const key = i % 3 === 1 ? certificate : publicKey;
    const path = pathFor(merchant);
    deliveries.push({
      kind: key === certificate ? 'certificate-key' : 'genuine',
      eventId: spec.id,
      path,
      body,
      headers: signNotification(body, key, now),
      expectedStatus: 204,
    });
    // A retry carries the same body with a fresh nonce, timestamp and signature, possibly from the other key.
    let retry = 0;
    while (random() < options.duplicateRate) {
      retry += 1;
      deliveries.push({
        kind: 'duplicate',
        eventId: spec.id,
        path,
        body,
        headers: signNotification(body, retry % 2 ? publicKey : certificate, now + retry),
        expectedStatus: 204,
      });
    }
  });

  const template = scenario.notifications.find((n) => n.merchantId === first.id);
  if (template) {
    const path = pathFor(first);
    const [key] = first.keys;
    const fake = (label: string) =>
      encodeNotification({ ...template, id: `forged-${label}` }, first.apiv3Key);
    const probeBody = fake('probe');
    deliveries.push({
      kind: 'probe',
      eventId: 'forged-probe',
      path,
      body: probeBody,
      headers: {
        ...signNotification(probeBody, key, now),
        'Wechatpay-Signature': `${SIGNTEST_PREFIX}${crypto.randomBytes(32).toString('base64')}`,
      },
      expectedStatus: 401,
    });
    if (options.forgeries) {
      const attacker = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      const forge = (
        kind: WechatpayDeliveryKind,
        expectedStatus: number,
        make: (body: string) => { body?: string; headers: Record<string, string> },
      ): WechatpayDelivery => {
        const body = fake(kind.replace(/^forged-/, ''));
        const made = make(body);
        return {
          kind,
          eventId: `forged-${kind.replace(/^forged-/, '')}`,
          path,
          body: made.body ?? body,
          headers: made.headers,
          expectedStatus,
        };
      };
      const oversize = (body: string) =>
        JSON.stringify({ ...JSON.parse(body), padding: 'x'.repeat(options.maxBodyBytes ?? 2_097_152) });
      const notJson = 'return_code=SUCCESS&total_fee=1';
      deliveries.push(
        forge('forged-key', 401, (body) => ({
          headers: signNotification(body, { ...key, privateKey: attacker.privateKey }, now),
        })),
        forge('forged-tampered', 401, (body) => ({
          body: body.replace('"summary":"', '"summary":"!'),
          headers: signNotification(body, key, now),
        })),
        forge('forged-stale', 401, (body) => ({ headers: signNotification(body, key, now - 600) })),
        forge('forged-serial', 401, (body) => ({
          headers: signNotification(body, { ...key, serial: 'PUB_KEY_ID_0000000000000000000000000000' }, now),
        })),
        forge('forged-unsigned', 400, (body) => {
          const { 'Wechatpay-Signature': _dropped, ...headers } = signNotification(body, key, now);
          return { headers };
        }),
        forge('forged-signature-type', 400, (body) => ({
          headers: {
            ...signNotification(body, key, now),
            'Wechatpay-Signature-Type': SIGNATURE_TYPE.replace('SHA256', 'SHA1'),
          },
        })),
        forge('forged-not-json', 400, () => ({
          body: notJson,
          headers: signNotification(notJson, key, now),
        })),
        forge('forged-oversize', 413, (body) => ({
          body: oversize(body),
          headers: signNotification(oversize(body), key, now),
        })),
      );
    }
  }
  return shuffle(deliveries, random);
}

export async function sendWechatpayDeliveries(
  baseUrl: string,
  deliveries: readonly WechatpayDelivery[],
  concurrency = 8,
): Promise<WechatpayDeliveryResult[]> {
  const results: WechatpayDeliveryResult[] = new Array(deliveries.length);
  let next = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const index = next++;
      const delivery = deliveries[index]!;
      const response = await fetch(`${baseUrl}${delivery.path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'Mozilla/4.0', ...delivery.headers },
        body: delivery.body,
      });
      await response.arrayBuffer();
      results[index] = { ...delivery, status: response.status };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}
