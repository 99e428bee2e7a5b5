// A local stand-in for API Gateway HTTP API: turns each request into a payload-v2 event (raw body, lower-cased
// headers, base64 for binary bodies, path parameters) and invokes the same handler modules Lambda runs.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type RouteHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Route {
  method: string;
  /** `/webhooks/stripe/{account}`; a trailing `{key+}` matches the rest of the path. */
  path: string;
  handler: RouteHandler;
}

export interface Gateway {
  url: string;
  server: http.Server;
  stop(): Promise<void>;
}

// API Gateway's own payload limit; larger requests never reach a handler.
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const TEXT_TYPES = /^(text\/|application\/(json|xml|x-www-form-urlencoded|[\w.+-]*\+json|[\w.+-]*\+xml))/i;

function compile(path: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const pattern = path.replace(/\{(\w+)(\+?)\}/g, (_, name: string, greedy: string) => {
    names.push(name);
    return greedy ? '(.+)' : '([^/]+)';
  });
  return { regex: new RegExp(`^${pattern}$`), names };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isText(contentType: string | undefined, body: Buffer): boolean {
  if (contentType && !TEXT_TYPES.test(contentType)) return false;
  try {
    utf8.decode(body);
    return true;
  } catch {
    return false;
  }
}

function toEvent(
  request: http.IncomingMessage,
  body: Buffer,
  route: Route,
  params: Record<string, string>,
): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  // API Gateway joins repeated headers with commas.
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!.toLowerCase();
    const value = request.rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const text = isText(headers['content-type'], body);
  const now = new Date();
  const routeKey = `${route.method} ${route.path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
    pathParameters: Object.keys(params).length ? params : undefined,
    body: body.length === 0 ? undefined : text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !text,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  } as APIGatewayProxyEventV2;
}

function send(
  response: http.ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(body);
}

export async function startGateway(options: {
  port: number;
  routes: Route[];
  onError?: (error: unknown) => void;
}): Promise<Gateway> {
  const routes = options.routes.map((route) => ({ route, ...compile(route.path) }));
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', async () => {
      if (tooLarge) return send(response, 413, '{"message":"Request Entity Too Large"}');
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      for (const { route, regex, names } of routes) {
        const match = request.method === route.method ? regex.exec(path) : null;
        if (!match) continue;
        const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
        try {
          const result = await route.handler(toEvent(request, Buffer.concat(chunks), route, params));
          const body = result.body ?? '';
          response.writeHead(result.statusCode ?? 200, result.headers as http.OutgoingHttpHeaders);
          response.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
        } catch (error) {
          options.onError?.(error);
          // What API Gateway answers when the function throws.
          send(response, 500, '{"message":"Internal Server Error"}');
        }
        return;
      }
      send(response, 404, '{"message":"Not Found"}');
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
