// AES-256-GCM encryption of resources the way WeChat Pay does it: the sandbox and tests build notifications
// with it, and the reconciliation healer re-seals a queried resource so it travels like a real notification.
import crypto from 'node:crypto';
import { ConfigError } from '../../errors.ts';
import { apiv3KeyBytes, KEY_BYTES, TAG_BYTES } from './apiv3-key.ts';
import { WECHATPAY_CODES as C, RESOURCE_ALGORITHM } from './constants.ts';
import { toBytes } from './encoding.ts';

export interface EncryptedResourceOutput {
  algorithm: typeof RESOURCE_ALGORITHM;
  ciphertext: string;
  nonce: string;
  associated_data: string;
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
    apiv3KeyBytes(apiv3Key),
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
