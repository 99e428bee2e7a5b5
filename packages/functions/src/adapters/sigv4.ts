// AWS Signature Version 4 for one JSON-protocol POST (the lean SendMessage), with node:crypto alone. The SDK's
// signer (@smithy/signature-v4 + @smithy/hash-node) brought 95 KiB of @smithy/core onto the webhooks' cold start
// for what is four HMACs and two hashes (docs/decisions.md "Ingress hot path and cold start, session 5"). It signs
// exactly what that signer signed (tests/sqs-send.test.ts compares the Authorization header with the SDK client's
// and checks it against the specification): every header given, plus x-amz-date, x-amz-security-token (when the
// credentials carry one) and x-amz-content-sha256.
import { createHash, createHmac } from 'node:crypto';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignedPostInput {
  /** Lower-case names; `host` included. */
  headers: Readonly<Record<string, string>>;
  body: string;
  region: string;
  service: string;
  credentials: SigningCredentials;
  signingDate: Date;
}

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** As the SDK's canonical headers: line breaks and runs of blanks become one space, ends trimmed. */
const canonicalValue = (value: string) =>
  value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');

/**
 * Signs `POST /` with an empty query. The derived signing key depends only on the day, region, service and
 * secret, so it is kept until one of them changes (a container signs with one key all day).
 */
export function createSigV4Signer(): (input: SignedPostInput) => Record<string, string> {
  let cached: { scopeKey: string; secret: string; key: Buffer } | undefined;
  const signingKey = (secret: string, day: string, region: string, service: string) => {
    const scopeKey = `${day}/${region}/${service}`;
    if (cached?.scopeKey !== scopeKey || cached.secret !== secret) {
      const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
      cached = { scopeKey, secret, key };
    }
    return cached.key;
  };
  return ({ headers, body, region, service, credentials, signingDate }) => {
    const longDate = signingDate.toISOString().replace(/[-:]|\.\d{3}/g, '');
    const day = longDate.slice(0, 8);
    const payloadHash = sha256Hex(body);
    const signed: Record<string, string> = {
      ...headers,
      'x-amz-date': longDate,
      ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
      'x-amz-content-sha256': payloadHash,
    };
    const names = Object.keys(signed).sort();
    const signedHeaders = names.join(';');
    let canonicalHeaders = '';
    for (const name of names) canonicalHeaders += `${name}:${canonicalValue(signed[name]!)}\n`;
    const canonicalRequest = `POST\n/\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
    const scope = `${day}/${region}/${service}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signature = createHmac('sha256', signingKey(credentials.secretAccessKey, day, region, service))
      .update(stringToSign, 'utf8')
      .digest('hex');
    signed.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return signed;
  };
}
