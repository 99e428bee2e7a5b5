// Self-signed X.509 certificates built at runtime: the sandbox's WeChat Pay platform certificates (certificate
// serial mode) and the tests of packages/core. Node can parse certificates but not build them; rather than
// shelling out to openssl or importing a transitive dependency (asn1js comes only via sst), this writes the few
// DER structures by hand. Never deployed: only the sandbox and tests use it.
import crypto, { type KeyObject } from 'node:crypto';

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const sequence = (...items: Buffer[]) => der(0x30, ...items);
const set = (...items: Buffer[]) => der(0x31, ...items);
const nullValue = () => der(0x05);
const utf8 = (text: string) => der(0x0c, Buffer.from(text, 'utf8'));
const bitString = (bytes: Buffer) => der(0x03, Buffer.from([0]), bytes);

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      chunk.unshift((value & 0x7f) | 0x80);
    }
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

/** A positive DER INTEGER from a hex string (a leading zero byte is added when the high bit is set). */
function integerFromHex(hex: string): Buffer {
  let bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return der(0x02, bytes);
}

function utcTime(date: Date): Buffer {
  const iso = date.toISOString(); // 2025-03-01T01:15:03.000Z → 250301011503Z
  const text = `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return der(0x17, Buffer.from(text, 'ascii'));
}

const SHA256_WITH_RSA = () => sequence(oid('1.2.840.113549.1.1.11'), nullValue());
const commonName = (cn: string) => sequence(set(sequence(oid('2.5.4.3'), utf8(cn))));

export interface SelfSignedOptions {
  publicKey: KeyObject;
  privateKey: KeyObject;
  /** Upper-case hex, as WeChat puts it in `wechatpay-serial`. */
  serialHex: string;
  commonName?: string;
  notBefore?: Date;
  notAfter?: Date;
}

/** Returns a PEM "CERTIFICATE" signed by its own key (sha256WithRSAEncryption). */
export function selfSignedCertificatePem(options: SelfSignedOptions): string {
  const name = commonName(options.commonName ?? 'Tenpay.com Root CA (payhooks test)');
  const tbs = sequence(
    der(0xa0, integerFromHex('02')), // [0] EXPLICIT version v3
    integerFromHex(options.serialHex),
    SHA256_WITH_RSA(),
    name,
    sequence(
      utcTime(options.notBefore ?? new Date('2024-01-01T00:00:00Z')),
      utcTime(options.notAfter ?? new Date('2034-01-01T00:00:00Z')),
    ),
    name,
    options.publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = crypto.sign('sha256', tbs, options.privateKey);
  const certificate = sequence(tbs, SHA256_WITH_RSA(), bitString(signature));
  const base64 = certificate.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`;
}
