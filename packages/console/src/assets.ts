// The console's built files (index.html, one JS, one CSS) and how they are served: GET /console, GET
// /console/assets/{file}, GET /console/config.json. No data is ever served here — only the page and where to log in.
// The local gateway serves them from memory (built at start); on AWS the stack builds them at synthesis into the
// static function's folder and the function reads them from CONSOLE_ASSETS_DIR (build.ts).
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
}

/** File name (`app.js`, `app.css`) → content. index.html is made from them (asset versions in its links). */
export type ConsoleAssets = Map<string, ConsoleAsset>;

/** What the page needs to know before anyone logs in (served as /console/config.json). */
export interface ConsoleConfig {
  /**
   * Where the login form posts Cognito's InitiateAuth request (USER_PASSWORD_AUTH): Cognito's regional endpoint on
   * AWS (`https://cognito-idp.<region>.amazonaws.com/`), the local gateway's `/console/auth` locally.
   */
  authUrl: string;
  /** The public app client id (the ID token's audience). */
  clientId: string;
  /** A label shown in the header: the stage name, or `local`. */
  stage: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export const contentTypeOf = (file: string) =>
  TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

const version = (asset: ConsoleAsset | undefined) =>
  asset ? createHash('sha256').update(asset.body).digest('hex').slice(0, 12) : '0';

export function indexHtml(assets: ConsoleAssets): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>payhooks console</title>
<link rel="stylesheet" href="/console/assets/app.css?v=${version(assets.get('app.css'))}">
</head>
<body>
<div id="app"><noscript>The payhooks console needs JavaScript.</noscript></div>
<script type="module" src="/console/assets/app.js?v=${version(assets.get('app.js'))}"></script>
</body>
</html>
`;
}

/** Only our own scripts and styles; the API and the login endpoint are the only places the page may call. */
function contentSecurityPolicy(config: ConsoleConfig): string {
  let auth = '';
  try {
    auth = new URL(config.authUrl).origin;
  } catch {
    // a relative URL (local): 'self' covers it
  }
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${auth ? ` ${auth}` : ''}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

export async function writeConsoleAssets(dir: string, assets: ConsoleAssets): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, asset] of assets) await writeFile(path.join(dir, name), asset.body);
}

export async function readConsoleAssets(dir: string): Promise<ConsoleAssets> {
  const names = await readdir(dir).catch(() => {
    throw new Error(`CONSOLE_ASSETS_DIR ${dir} cannot be read: build the console assets first`);
  });
  const assets: ConsoleAssets = new Map();
  for (const name of names)
    assets.set(name, { body: await readFile(path.join(dir, name)), contentType: contentTypeOf(name) });
  return assets;
}

type Result = APIGatewayProxyStructuredResultV2;

/** GET /console, /console/assets/{file}, /console/config.json as one handler (a Lambda route or the local gateway). */
export function createConsoleStaticHandler(assets: ConsoleAssets, config: ConsoleConfig) {
  const security = {
    'content-security-policy': contentSecurityPolicy(config),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
  const page = indexHtml(assets);
  const configBody = JSON.stringify(config);
  return async (event: APIGatewayProxyEventV2): Promise<Result> => {
    const path = event.rawPath ?? '';
    if (path === '/console' || path === '/console/')
      return {
        statusCode: 200,
        headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...security },
        body: page,
      };
    if (path === '/console/config.json')
      return {
        statusCode: 200,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'no-cache',
          ...security,
        },
        body: configBody,
      };
    const name = path.startsWith('/console/assets/') ? path.slice('/console/assets/'.length) : '';
    const asset = /^[\w.-]+$/.test(name) ? assets.get(name) : undefined;
    if (!asset)
      return {
        statusCode: 404,
        headers: { 'content-type': 'application/json', ...security },
        body: '{"message":"Not Found"}',
      };
    return {
      statusCode: 200,
      headers: { 'content-type': asset.contentType, 'cache-control': 'no-cache', ...security },
      body: asset.body.toString('base64'),
      isBase64Encoded: true,
    };
  };
}
