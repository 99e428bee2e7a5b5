// A received callback body is bytes, or the text a transport delivered standing for its UTF-8 encoding
// (ingress/types.ts IngressRequest.body). The verifiers take either; these helpers keep the two forms equivalent.

// ES2024's String.prototype.isWellFormed (Node ≥ 20); the project's lib is ES2023.
const isWellFormed = (text: string): boolean =>
  (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * The body in the form the verifiers take: bytes as they are; text that is well-formed UTF-16, as it is (its UTF-8
 * encoding decodes back to exactly this text); any other text as its UTF-8 encoding (lone surrogates become
 * U+FFFD, as Buffer.from has always made them), so it is checked and stored exactly as before.
 */
export function receivedBody(body: Uint8Array | string): Uint8Array | string {
  if (typeof body !== 'string' || isWellFormed(body)) return body;
  return Buffer.from(body, 'utf8');
}

/** The UTF-8 byte length of a received body, bytes or text. */
export function receivedByteLength(body: Uint8Array | string): number {
  return typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
}
