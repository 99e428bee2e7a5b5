// AES-256-GCM for notification resources (and, via the raw primitive, encrypted bills): decryption that
// always checks the tag, and encryption for the sandbox and tests.
import crypto from 'node:crypto';
import { ConfigError, DecryptError } from '../../errors.ts';
import { WECHATPAY_CODES as C, RESOURCE_ALGORITHM } from './constants.ts';
import { decodeBase64Strict, isBytes, toBytes } from './encoding.ts';

const KEY_BYTES = 32;
const TAG_BYTES = 16;

export interface EncryptedResource {
  /** base64 of ciphertext followed by the 16-byte tag. */
  ciphertext: string;
  /** The IV as a string; its bytes are used as-is, whatever the length (12 in notifications, 16 in bills). */
  nonce: string;
  /** Additional authenticated data; absent, null and '' all mean none. */
  associated_data?: string | null;
}

export interface EncryptedResourceOutput {
  algorithm: typeof RESOURCE_ALGORITHM;
  ciphertext: string;
  nonce: string;
  associated_data: string;
}

function keyBytes(apiv3Key: Uint8Array | string): Buffer {
  // The APIv3 key is used as its 32 ASCII bytes, not hex- or base64-decoded.
  const key = typeof apiv3Key === 'string' || isBytes(apiv3Key) ? toBytes(apiv3Key) : undefined;
  if (!key || key.length !== KEY_BYTES) {
    throw new ConfigError(C.apiv3Key, `the APIv3 key must be exactly ${KEY_BYTES} bytes`);
  }
  return key;
}

/**
 * AES-256-GCM open: `sealed` is ciphertext followed by the 16-byte tag. final() is always called, so a wrong
 * key, IV or AAD, or any changed bit, throws DecryptError instead of returning garbage.
 */
export function aesGcmDecrypt(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer {
  if (key.length !== KEY_BYTES)
    throw new ConfigError(C.apiv3Key, `AES-256-GCM needs a ${KEY_BYTES}-byte key`);
  if (iv.length === 0) throw new DecryptError(C.decryptInput, 'AES-GCM nonce is empty');
  if (sealed.length < TAG_BYTES) {
    throw new DecryptError(C.decryptInput, `ciphertext is shorter than the ${TAG_BYTES}-byte GCM tag`);
  }
  const data = toBytes(sealed);
  try {
    // authTagLength pins the tag size so a truncated tag can never be accepted.
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    if (aad.length > 0) decipher.setAAD(aad);
    return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]);
  } catch (cause) {
    throw new DecryptError(
      C.decryptFailed,
      'AES-256-GCM authentication failed: wrong APIv3 key, wrong associated_data/nonce, or tampered ciphertext',
      { cause },
    );
  }
}

/** AES-256-GCM seal: ciphertext followed by the 16-byte tag. */
export function aesGcmEncrypt(
  key: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Buffer {
  if (key.length !== KEY_BYTES)
    throw new ConfigError(C.apiv3Key, `AES-256-GCM needs a ${KEY_BYTES}-byte key`);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  if (aad.length > 0) cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Decrypts a notification `resource` with the merchant's APIv3 key; returns the plaintext bytes (JSON). */
export function decryptResource(resource: EncryptedResource, apiv3Key: Uint8Array | string): Buffer {
  const key = keyBytes(apiv3Key);
  if (typeof resource !== 'object' || resource === null) {
    throw new DecryptError(C.decryptInput, 'resource is not an object');
  }
  const { ciphertext, nonce, associated_data: aad } = resource;
  if (typeof nonce !== 'string' || nonce.length === 0) {
    throw new DecryptError(C.decryptInput, 'resource.nonce is missing');
  }
  if (aad !== undefined && aad !== null && typeof aad !== 'string') {
    throw new DecryptError(C.decryptInput, 'resource.associated_data is not a string');
  }
  const sealed = decodeBase64Strict(ciphertext);
  if (!sealed) throw new DecryptError(C.decryptInput, 'resource.ciphertext is not base64');
  return aesGcmDecrypt(key, Buffer.from(nonce, 'utf8'), Buffer.from(aad ?? '', 'utf8'), sealed);
}

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random alphanumeric nonce like WeChat's (12 characters by default); rejection-sampled, so unbiased. */
export function newResourceNonce(length = 12): string {
  let out = '';
  while (out.length < length) {
    for (const byte of crypto.randomBytes(length)) {
      if (byte < 248 && out.length < length) out += NONCE_ALPHABET[byte % NONCE_ALPHABET.length];
    }
  }
  return out;
}

/** Encrypts a resource the way WeChat Pay does (sandbox and tests). */
export function encryptResource(
  plaintext: Uint8Array | string,
  apiv3Key: Uint8Array | string,
  options: { nonce?: string; associatedData?: string } = {},
): EncryptedResourceOutput {
  const nonce = options.nonce ?? newResourceNonce();
  const associatedData = options.associatedData ?? '';
  const sealed = aesGcmEncrypt(
    keyBytes(apiv3Key),
    Buffer.from(nonce, 'utf8'),
    Buffer.from(associatedData, 'utf8'),
    toBytes(plaintext),
  );
  return {
    algorithm: RESOURCE_ALGORITHM,
    ciphertext: sealed.toString('base64'),
    nonce,
    associated_data: associatedData,
  };
}
