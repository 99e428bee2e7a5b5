// The sandbox's WeChat Pay merchants, generated fresh at every start: per merchant a WeChat Pay public key
// (PUB_KEY_ID_… mode), a self-signed platform certificate (serial mode), a 32-character APIv3 key, and a
// merchant key pair with its certificate serial. The configuration document (docs/wechatpay-merchants.md) is
// written under the git-ignored state dir with mode 0600; the signing halves stay in memory for the sender.
import crypto, { type KeyObject } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { MerchantConfig, MerchantsDocument } from '@payhooks/core/providers/wechatpay';
import { selfSignedCertificatePem } from './x509.ts';

const generateKeyPair = promisify(crypto.generateKeyPair);

export interface SandboxKey {
  /** `PUB_KEY_ID_…` or the platform certificate's upper-case hex serial: what goes into `wechatpay-serial`. */
  serial: string;
  mode: 'public-key' | 'certificate';
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** What WeChat Pay holds for one merchant: the keys it signs notifications with and the APIv3 key. */
export interface SandboxMerchant {
  id: string;
  mchid: string;
  appid: string;
  apiv3Key: string;
  /** Signing keys, one per configured verification key: [public-key mode, certificate mode]. */
  keys: readonly [SandboxKey, SandboxKey];
  merchantCertificateSerial: string;
}

export interface SandboxMerchants {
  merchants: SandboxMerchant[];
  document: MerchantsDocument;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random 32-character alphanumeric APIv3 key (what merchants set in the WeChat Pay console). */
export function randomApiv3Key(): string {
  let key = '';
  while (key.length < 32) {
    for (const byte of crypto.randomBytes(32)) {
      if (byte < 248 && key.length < 32) key += ALPHANUMERIC[byte % ALPHANUMERIC.length];
    }
  }
  return key;
}

const randomHex = (bytes: number) =>
  crypto.randomBytes(bytes).toString('hex').toUpperCase().replace(/^0+/, '1');
const rsa = () => generateKeyPair('rsa', { modulusLength: 2048 });
const pem = (key: KeyObject, type: 'spki' | 'pkcs8') => key.export({ type, format: 'pem' }).toString();

export interface SandboxMerchantSpec {
  id: string;
  mchid: string;
  appid: string;
}

export const DEFAULT_SANDBOX_MERCHANTS: readonly SandboxMerchantSpec[] = [
  { id: 'shop', mchid: '1900000109', appid: 'wxd678efh567hg6787' },
  { id: 'kiosk', mchid: '1900000110', appid: 'wx8888888888888888' },
];

async function generateMerchant(
  spec: SandboxMerchantSpec,
): Promise<{ merchant: SandboxMerchant; config: MerchantConfig }> {
  const [wechatpayKey, platformKey, merchantKey] = await Promise.all([rsa(), rsa(), rsa()]);
  const pubKeyId = `PUB_KEY_ID_01${crypto.randomInt(10 ** 9, 10 ** 10)}${crypto.randomInt(10 ** 9, 10 ** 10)}`;
  const platformSerial = randomHex(20);
  const certificatePem = selfSignedCertificatePem({
    ...platformKey,
    serialHex: platformSerial,
    commonName: `Tenpay.com sandbox platform certificate ${spec.mchid}`,
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 5 * 365 * 86_400_000),
  });
  const apiv3Key = randomApiv3Key();
  // Issued with a leading zero (as 1 in 16 real serials are), so a client that strips it is refused.
  const merchantCertificateSerial = `0${randomHex(20).slice(1)}`;
  const merchant: SandboxMerchant = {
    ...spec,
    apiv3Key,
    keys: [
      { serial: pubKeyId, mode: 'public-key', ...wechatpayKey },
      { serial: platformSerial, mode: 'certificate', ...platformKey },
    ],
    merchantCertificateSerial,
  };
  const config: MerchantConfig = {
    ...spec,
    apiv3Key,
    verificationKeys: { [pubKeyId]: pem(wechatpayKey.publicKey, 'spki'), [platformSerial]: certificatePem },
    privateKey: pem(merchantKey.privateKey, 'pkcs8'),
    certificateSerial: merchantCertificateSerial,
  };
  return { merchant, config };
}

export async function generateSandboxMerchants(
  specs: readonly SandboxMerchantSpec[] = DEFAULT_SANDBOX_MERCHANTS,
): Promise<SandboxMerchants> {
  const generated = await Promise.all(specs.map(generateMerchant));
  return {
    merchants: generated.map((g) => g.merchant),
    document: { merchants: generated.map((g) => g.config) },
  };
}

/** Writes the configuration document (it holds private keys: owner-only permissions). */
export async function writeMerchantsFile(file: string, document: MerchantsDocument): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}
