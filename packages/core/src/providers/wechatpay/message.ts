// The exact bytes WeChat Pay signs: one builder per message kind, shared by signing and verifying so both
// sides cannot drift apart (known-answer tests pin the format independently).
import { toBytes } from './encoding.ts';

const NEWLINE = Buffer.from('\n');

/**
 * Notifications and API responses: `${timestamp}\n${nonce}\n${body}\n`. The body is concatenated as raw
 * bytes: decoding and re-encoding could change them (BOM, invalid UTF-8, re-serialised JSON).
 */
export function notificationMessage(timestamp: string, nonce: string, body: Uint8Array | string): Buffer {
  // Text: one encode of the whole message. The same bytes as encoding the parts apart, since `\n` stands on
  // both sides of the body (no surrogate pair can form across a join).
  if (typeof body === 'string') return Buffer.from(`${timestamp}\n${nonce}\n${body}\n`, 'utf8');
  return Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`, 'utf8'), toBytes(body), NEWLINE]);
}

/**
 * Merchant API requests: `METHOD\nPATH_WITH_QUERY\nTIMESTAMP\nNONCE\nBODY\n` (a GET has an empty body,
 * so the message ends in `\n\n`). The path excludes scheme and host: failover hosts share signatures.
 */
export function requestMessage(
  method: string,
  pathWithQuery: string,
  timestamp: string,
  nonce: string,
  body: Uint8Array | string,
): Buffer {
  return Buffer.concat([
    Buffer.from(`${method.toUpperCase()}\n${pathWithQuery}\n${timestamp}\n${nonce}\n`, 'utf8'),
    toBytes(body),
    NEWLINE,
  ]);
}
