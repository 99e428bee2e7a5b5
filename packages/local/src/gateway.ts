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
  url: URL,
  body: Buffer,
  route: Route,
  params: Record<string, string>,
): APIGatewayProxyEventV2 {
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

const BAD_REQUEST = '{"message":"Bad Request"}';

/** The request target as a URL, or undefined when it is not one (API Gateway answers 400 before any route). */
function parseRequestTarget(target: string | undefined): URL | undefined {
  if (!target?.startsWith('/')) return undefined;
  try {
    return new URL(target, 'http://localhost');
  } catch {
    return undefined;
  }
}

/** Decoded path parameters, or undefined when a segment is not valid percent-encoded UTF-8 (→ 400). */
function pathParameters(names: string[], match: RegExpExecArray): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) {
    try {
      params[names[i]!] = decodeURIComponent(match[i + 1]!);
    } catch {
      return undefined;
    }
  }
  return params;
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
    // A client that goes away mid-body: nothing to answer, and no unhandled 'error' to take the process down.
    request.on('error', () => {});
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => {
      if (tooLarge) return send(response, 413, '{"message":"Request Entity Too Large"}');
      dispatch(request, response, Buffer.concat(chunks)).catch((error: unknown) => {
        // Only a fault of the gateway itself gets here (handler errors are answered in dispatch).
        options.onError?.(error);
        if (!response.headersSent) send(response, 500, '{"message":"Internal Server Error"}');
        else response.destroy();
      });
    });
  });

  async function dispatch(request: http.IncomingMessage, response: http.ServerResponse, body: Buffer) {
    const url = parseRequestTarget(request.url);
    if (!url) return send(response, 400, BAD_REQUEST);
    for (const { route, regex, names } of routes) {
      const match = request.method === route.method ? regex.exec(url.pathname) : null;
      if (!match) continue;
      const params = pathParameters(names, match);
      if (!params) return send(response, 400, BAD_REQUEST);
      let result: APIGatewayProxyStructuredResultV2;
      try {
        result = await route.handler(toEvent(request, url, body, route, params));
      } catch (error) {
        options.onError?.(error);
        // What API Gateway answers when the function throws.
        return send(response, 500, '{"message":"Internal Server Error"}');
      }
      const answer = result.body ?? '';
      try {
        response.writeHead(result.statusCode ?? 200, result.headers as http.OutgoingHttpHeaders);
      } catch (error) {
        // An answer HTTP cannot carry (a status out of range, a header value with a newline): API Gateway's
        // own answer to a malformed function response.
        options.onError?.(error);
        return send(response, 502, '{"message":"Internal Server Error"}');
      }
      response.end(result.isBase64Encoded ? Buffer.from(answer, 'base64') : answer);
      return;
    }
    send(response, 404, '{"message":"Not Found"}');
  }

  // Longer than clients keep an idle connection (undici: 4 s), so the client always closes an idle socket first: a
  // server closing it while a client starts a request on it resets that request (seen with 2 MiB bodies).
  server.keepAliveTimeout = 65_000;
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
