// The APIv3 key and AES-256-GCM sizes shared by decrypt.ts and encrypt.ts.
import { ConfigError } from '../../errors.ts';
import { WECHATPAY_CODES as C } from './constants.ts';
import { isBytes, toBytes } from './encoding.ts';

export const KEY_BYTES = 32;
export const TAG_BYTES = 16;

/** The APIv3 key as its 32 bytes; ConfigError otherwise. */
export function apiv3KeyBytes(apiv3Key: Uint8Array | string): Buffer {
  // The APIv3 key is used as its 32 ASCII bytes, not hex- or base64-decoded.
  const key = typeof apiv3Key === 'string' || isBytes(apiv3Key) ? toBytes(apiv3Key) : undefined;
  if (!key || key.length !== KEY_BYTES) {
    throw new ConfigError(C.apiv3Key, `the APIv3 key must be exactly ${KEY_BYTES} bytes`);
  }
  return key;
}
