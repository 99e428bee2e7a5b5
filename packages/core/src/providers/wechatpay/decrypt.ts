// AES-256-GCM decryption of notification resources (and, via the raw primitive, encrypted bills): always
// checks the tag. Encryption (sandbox, tests, the reconciliation healer) lives in encrypt.ts.
import crypto from 'node:crypto';
import { ConfigError, DecryptError } from '../../errors.ts';
import { apiv3KeyBytes, KEY_BYTES, TAG_BYTES } from './apiv3-key.ts';
import { WECHATPAY_CODES as C } from './constants.ts';
import { decodeBase64Strict, toBytes } from './encoding.ts';

export interface EncryptedResource {
  /** base64 of ciphertext followed by the 16-byte tag. */
  ciphertext: string;
  /** The IV as a string; its bytes are used as-is, whatever the length (12 in notifications, 16 in bills). */
  nonce: string;
  /** Additional authenticated data; absent, null and '' all mean none. */
  associated_data?: string | null;
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

/** Decrypts a notification `resource` with the merchant's APIv3 key; returns the plaintext bytes (JSON). */
export function decryptResource(resource: EncryptedResource, apiv3Key: Uint8Array | string): Buffer {
  const key = apiv3KeyBytes(apiv3Key);
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

// Kept for deep importers of the former decrypt.ts, which also encrypted (recon/run/heal.ts, test helpers).
export { aesGcmEncrypt, type EncryptedResourceOutput, encryptResource, newResourceNonce } from './encrypt.ts';
