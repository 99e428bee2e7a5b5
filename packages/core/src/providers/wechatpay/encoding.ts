// Byte helpers shared by the security path: strict base64 and string/bytes conversion.

// Buffer.from(text, 'base64') silently skips invalid characters and accepts url-safe input; on the security
// path a value that is not canonical padded base64 is malformed, not "whatever decodes".
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes standard padded base64, or returns undefined when the text is not exactly that. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (typeof text !== 'string' || text.length === 0) return undefined;
  const decoded = Buffer.from(text, 'base64');
  // Fast path (every genuine signature): the text is exactly the canonical encoding of what it decodes to.
  // Otherwise the pattern decides, as before (it also admits non-zero padding bits).
  if (decoded.toString('base64') === text || BASE64.test(text)) return decoded;
  return undefined;
}

/** Strings are taken as UTF-8; bytes are used as-is (never decoded and re-encoded). */
export function toBytes(value: Uint8Array | string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}
