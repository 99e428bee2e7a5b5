// FOR THE SANDBOX AND TESTS ONLY: the provider's side of bill downloads — gzip, AES-256-GCM encryption with the tag
// appended, RSA-OAEP/SHA-1 wrapping of the bill key, SHA-1 hash_value — so the local WeChat Pay sandbox can serve
// bills in the real wire format and tests can build them from keys they generate. Production code only reads bills
// (core's recon/wechatpay/bill-stream.ts); nothing here is needed on that path.
import { constants, createCipheriv, createHash, type KeyLike, publicEncrypt, randomBytes } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import type { BillHashStage } from '@payhooks/core/recon';

type Bytes = string | Uint8Array;
type ByteChunks = Bytes | AsyncIterable<Bytes> | Iterable<Bytes>;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomAlphanumeric(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // 256 % 62 bias is irrelevant for test nonces and keys.
  for (const byte of bytes) out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
  return out;
}

/** A 32-character ASCII AES-256 key, the shape of WeChat's keys (APIv3 key, bill keys). */
export function newBillKey(): Buffer {
  return Buffer.from(randomAlphanumeric(32), 'ascii');
}

/** A bill nonce; 16 characters like the example in WeChat's documentation. */
export function newBillNonce(length = 16): string {
  return randomAlphanumeric(length);
}

/** Wraps a bill key for `encrypt_key`: RSA-OAEP with SHA-1 under the merchant's public key, base64. */
export function encryptBillKey(key: Uint8Array, merchantPublicKey: KeyLike): string {
  return publicEncrypt(
    { key: merchantPublicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    key,
  ).toString('base64');
}

const toBuffer = (chunk: Bytes) =>
  typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);

async function* chunks(source: ByteChunks): AsyncGenerator<Buffer> {
  if (typeof source === 'string' || source instanceof Uint8Array) {
    yield toBuffer(source);
    return;
  }
  for await (const chunk of source) yield toBuffer(chunk);
}

/** Lower-case hex SHA-1 of the bytes (the bill API's hash_value), streaming. */
export async function sha1Hex(source: ByteChunks): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of chunks(source)) hash.update(chunk);
  return hash.digest('hex');
}

/** Gzips a stream of text or bytes (tar_type=GZIP). */
export async function* gzipChunks(source: ByteChunks): AsyncGenerator<Buffer> {
  const gzip = createGzip();
  pipeline(Readable.from(chunks(source)), gzip, () => {});
  for await (const chunk of gzip) yield chunk as Buffer;
}

/** AES-256-GCM encrypts a stream with empty AAD and appends the 16-byte tag at the end. */
export async function* encryptChunks(
  source: ByteChunks,
  key: Uint8Array,
  nonce: string,
): AsyncGenerator<Buffer> {
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.from(nonce, 'utf8'), { authTagLength: 16 });
  for await (const chunk of chunks(source)) {
    const out = cipher.update(chunk);
    if (out.length > 0) yield out;
  }
  const last = cipher.final();
  if (last.length > 0) yield last;
  yield cipher.getAuthTag();
}

/** Collects chunks into one buffer (tests and small sandbox bills). */
export async function collectBytes(source: ByteChunks): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks(source)) parts.push(chunk);
  return Buffer.concat(parts);
}

/** A bill as the download endpoint serves it, with the fields of the bill API's answer. */
export interface BillDownload {
  body: Buffer;
  hashType: 'SHA1';
  hashValue: string;
}

/** Packs bill text as a plain (optionally gzipped) trade or fund-flow bill download. */
export function packBill(text: Bytes, options: { gzip?: boolean } = {}): BillDownload {
  const plain = toBuffer(text);
  return {
    body: options.gzip === false ? plain : gzipSync(plain),
    hashType: 'SHA1',
    hashValue: createHash('sha1').update(plain).digest('hex'),
  };
}

export interface EncryptedBillDownload extends BillDownload {
  billSequence: number;
  encryptKey: string;
  nonce: string;
}

/**
 * Packs bill text as a sub-merchant fund-flow bill: split into `parts` byte ranges (cut anywhere, even inside a
 * line or a character), each gzipped (unless gzip: false), encrypted with its own key and nonce, and hashed over
 * `hashOver` (default: the part's plaintext, which is what the reader checks by default).
 */
export function packEncryptedBill(
  text: Bytes,
  options: { merchantPublicKey: KeyLike; parts?: number; gzip?: boolean; hashOver?: BillHashStage },
): EncryptedBillDownload[] {
  const plain = toBuffer(text);
  const count = Math.max(1, options.parts ?? 1);
  const size = Math.ceil(plain.length / count);
  const out: EncryptedBillDownload[] = [];
  for (let i = 0; i < count; i += 1) {
    const partPlain = plain.subarray(i * size, Math.min(plain.length, (i + 1) * size));
    const compressed = options.gzip === false ? partPlain : gzipSync(partPlain);
    const key = newBillKey();
    const nonce = newBillNonce();
    const cipher = createCipheriv('aes-256-gcm', key, Buffer.from(nonce, 'utf8'), { authTagLength: 16 });
    const body = Buffer.concat([cipher.update(compressed), cipher.final(), cipher.getAuthTag()]);
    const hashed = { plaintext: partPlain, decrypted: compressed, downloaded: body }[
      options.hashOver ?? 'plaintext'
    ];
    out.push({
      billSequence: i + 1,
      body,
      encryptKey: encryptBillKey(key, options.merchantPublicKey),
      nonce,
      hashType: 'SHA1',
      hashValue: createHash('sha1').update(hashed).digest('hex'),
    });
  }
  return out;
}
