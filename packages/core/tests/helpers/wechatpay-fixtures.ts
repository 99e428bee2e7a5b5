// Test builders for the WeChat Pay core: keys and certificates generated at runtime (no key files), merchant
// configuration documents, decrypted resources, and notifications encrypted and signed like WeChat's.
import crypto, { type KeyObject } from 'node:crypto';
import { encryptResource } from '../../src/providers/wechatpay/decrypt.ts';
import { parseMerchants } from '../../src/providers/wechatpay/merchants.ts';
import { buildSignatureHeaders } from '../../src/providers/wechatpay/sign.ts';
import { selfSignedCertificatePem } from './wechatpay-certs.ts';

export interface RsaPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export function rsaPair(bits = 2048): RsaPair {
  return crypto.generateKeyPairSync('rsa', { modulusLength: bits });
}

export const publicPem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
export const privatePem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();

export const MCHID = '1900000109';
export const APPID = 'wxd678efh567hg6787';
export const APIV3_KEY = 'a7cde1ef0A7cde1ef0a7Cde1ef0A7cde'; // 32 ASCII characters, made up for tests
export const PUB_KEY_ID = 'PUB_KEY_ID_0114232134912410000000000000';
export const PLATFORM_SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
export const MERCHANT_CERT_SERIAL = '444F4864EA9B34415DEBFBD2B2C4BFD8D49D6C19';
/** 2025-03-01T09:15:03+08:00 */
export const NOW = new Date('2025-03-01T01:15:03Z');

export interface TestKeys {
  /** WeChat Pay public key (PUB_KEY_ID_ mode). */
  wechatpay: RsaPair;
  /** Platform certificate key (certificate serial mode). */
  platform: RsaPair;
  platformCertificatePem: string;
  merchant: RsaPair;
}

let cached: TestKeys | undefined;

/** One set of 2048-bit keys per test file (generation takes tens of milliseconds each). */
export function testKeys(): TestKeys {
  if (!cached) {
    const platform = rsaPair();
    cached = {
      wechatpay: rsaPair(),
      platform,
      platformCertificatePem: selfSignedCertificatePem({ ...platform, serialHex: PLATFORM_SERIAL }),
      merchant: rsaPair(),
    };
  }
  return cached;
}

export function merchantConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const keys = testKeys();
  return {
    id: 'main',
    mchid: MCHID,
    appid: APPID,
    apiv3Key: APIV3_KEY,
    verificationKeys: {
      [PUB_KEY_ID]: publicPem(keys.wechatpay.publicKey),
      [PLATFORM_SERIAL]: keys.platformCertificatePem,
    },
    privateKey: privatePem(keys.merchant.privateKey),
    certificateSerial: MERCHANT_CERT_SERIAL,
    ...overrides,
  };
}

export function testMerchant(overrides: Record<string, unknown> = {}) {
  const registry = parseMerchants({ merchants: [merchantConfig(overrides)] });
  return registry.merchants[0]!;
}

export function transactionResource(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    appid: APPID,
    mchid: MCHID,
    out_trade_no: 'ORDER-20250301-0001',
    transaction_id: '4200002345202503011234567890',
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'CMC',
    attach: '',
    success_time: '2025-03-01T09:15:01+08:00',
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 12345, payer_total: 12345, currency: 'CNY', payer_currency: 'CNY' },
    promotion_detail: [],
    ...overrides,
  };
}

export function refundResource(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mchid: MCHID,
    transaction_id: '4200002345202503011234567890',
    out_trade_no: 'ORDER-20250301-0001',
    refund_id: '50000000382019052709732678859',
    out_refund_no: 'REFUND-20250301-0001',
    refund_status: 'SUCCESS',
    success_time: '2025-03-01T10:00:00+08:00',
    user_received_account: '招商银行信用卡0403',
    amount: { total: 12345, refund: 2345, payer_total: 12345, payer_refund: 2345 },
    ...overrides,
  };
}

/** Profit-sharing result content (分账动账通知), which carries order_id/receiver and no trade_state. */
export function profitSharingResource(): Record<string, unknown> {
  return {
    sp_mchid: MCHID,
    sub_mchid: '1900000110',
    transaction_id: '4200002345202503011234567890',
    order_id: '3008450740201411110007820472',
    out_order_no: 'P20150806125346',
    receiver: { type: 'MERCHANT_ID', account: '1900000111', amount: 888, description: '分给商户1900000111' },
    success_time: '2025-03-01T11:00:00+08:00',
  };
}

export interface NotificationOptions {
  id?: string;
  eventType?: string;
  originalType?: string;
  createTime?: string;
  summary?: string;
  apiv3Key?: string;
  nonce?: string;
  associatedData?: string;
}

/** The outer notification JSON with `resource` encrypted under the APIv3 key. */
export function notificationBody(resource: unknown, options: NotificationOptions = {}): Buffer {
  const originalType = options.originalType ?? 'transaction';
  const encrypted = encryptResource(JSON.stringify(resource), options.apiv3Key ?? APIV3_KEY, {
    nonce: options.nonce ?? 'fdasflkja484',
    associatedData: options.associatedData ?? originalType,
  });
  const outer = {
    id: options.id ?? 'EV-2018022511223320873',
    create_time: options.createTime ?? '2025-03-01T09:15:03+08:00',
    resource_type: 'encrypt-resource',
    event_type: options.eventType ?? 'TRANSACTION.SUCCESS',
    summary: options.summary ?? '支付成功',
    resource: { original_type: originalType, ...encrypted },
  };
  return Buffer.from(JSON.stringify(outer), 'utf8');
}

/** Body plus the headers WeChat Pay would send, signed with `privateKey` under `serial`. */
export function signedRequest(
  body: Buffer,
  options: { privateKey?: KeyObject; serial?: string; now?: Date } = {},
) {
  const headers: Record<string, string | undefined> = {
    ...buildSignatureHeaders({
      body,
      privateKey: options.privateKey ?? testKeys().wechatpay.privateKey,
      serial: options.serial ?? PUB_KEY_ID,
      now: options.now ?? NOW,
    }),
  };
  return { rawBody: body, headers };
}

/** Combined payment content (合单支付): two sub-orders, the second booked to another merchant's sub-merchant. */
export function combinedResource(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const subOrder = (n: number, mchid: string, amount: number) => ({
    mchid,
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    bank_type: 'CMC',
    attach: '',
    success_time: '2025-03-01T09:15:01.120+08:00',
    transaction_id: `420000234520250301123456789${n}`,
    out_trade_no: `ORDER-20250301-C${n}`,
    amount: { total_amount: amount, payer_amount: amount, currency: 'CNY', payer_currency: 'CNY' },
  });
  return {
    combine_appid: APPID,
    combine_mchid: MCHID,
    combine_out_trade_no: 'COMBINE-20250301-0001',
    scene_info: { device_id: 'POS1:1' },
    sub_orders: [subOrder(1, MCHID, 1000), { ...subOrder(2, '1900000222', 2500), sub_mchid: '1900000333' }],
    combine_payer_info: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    ...overrides,
  };
}
