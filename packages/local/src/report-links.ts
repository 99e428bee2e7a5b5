// Report links a browser can follow: the local reports store's links point at the gateway's
// GET /local-reports/{key+}?expires=…&signature=… — a presigned URL of our own (HMAC-SHA256 over key and expiry
// with a key that lives only in this process), as S3's are, so the 302 from GET /reports/{key}?redirect=1 works
// without the bearer token and a link stops working after linkSeconds. file:// links were refused by browsers.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import type { ObjectStore } from '@payhooks/core/ports';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Route } from './gateway.ts';

export const LOCAL_REPORTS_PATH = '/local-reports';

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export interface ReportLinks {
  /** The store with its `link` replaced by signed gateway links. */
  wrap<S extends ObjectStore>(store: S): S;
  /** GET /local-reports/{key+}: serves the file when the signature and expiry hold. */
  route(store: ObjectStore): Route;
}

export function gatewayReportLinks(gatewayUrl: () => string, key: Buffer = randomBytes(32)): ReportLinks {
  const sign = (objectKey: string, expires: number) =>
    createHmac('sha256', key).update(`${objectKey}\n${expires}`).digest('base64url');
  return {
    wrap(store) {
      return {
        ...store,
        async link(objectKey: string, seconds: number) {
          const expires = Math.floor(Date.now() / 1000) + seconds;
          const encoded = objectKey.split('/').map(encodeURIComponent).join('/');
          return `${gatewayUrl()}${LOCAL_REPORTS_PATH}/${encoded}?expires=${expires}&signature=${sign(objectKey, expires)}`;
        },
      };
    },
    route(store) {
      return {
        method: 'GET',
        path: `${LOCAL_REPORTS_PATH}/{key+}`,
        handler: async (event): Promise<APIGatewayProxyStructuredResultV2> => {
          const objectKey = event.pathParameters?.key ?? '';
          const expires = Number(event.queryStringParameters?.expires);
          const given = Buffer.from(event.queryStringParameters?.signature ?? '', 'utf8');
          const expected = Buffer.from(Number.isInteger(expires) ? sign(objectKey, expires) : '', 'utf8');
          const valid =
            expected.length > 0 && given.length === expected.length && timingSafeEqual(given, expected);
          if (!valid || expires < Date.now() / 1000)
            return {
              statusCode: 403,
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({
                message: 'link invalid or expired: ask GET /reports/{key} for a new one',
              }),
            };
          const body = await store.get(objectKey).catch(() => undefined);
          if (!body)
            return {
              statusCode: 404,
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ message: `no report file ${objectKey}` }),
            };
          return {
            statusCode: 200,
            headers: {
              'content-type':
                CONTENT_TYPES[path.extname(objectKey).toLowerCase()] ?? 'application/octet-stream',
              'content-disposition': `attachment; filename="${path.basename(objectKey)}"`,
              'cache-control': 'no-store',
            },
            body: Buffer.from(body).toString('base64'),
            isBase64Encoded: true,
          };
        },
      };
    },
  };
}
