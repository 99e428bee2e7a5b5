// API Gateway HTTP API (payload v2) ↔ the console API's request type. The Lambda adapter and the local gateway
// both call this, so the claims take the same road: `requestContext.authorizer.jwt.claims`, put there by the JWT
// authorizer (AWS) or by the local gateway after it verified the token (packages/local/src/console.ts).
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ConsoleApi } from './router.ts';
import type { Claims, ConsoleRequest } from './types.ts';

export const CONSOLE_API_BASE = '/console/api';

interface AuthorizedContext {
  authorizer?: { jwt?: { claims?: Claims } };
}

export function consoleRequestFromEvent(event: APIGatewayProxyEventV2): ConsoleRequest {
  const rawPath = event.rawPath ?? event.requestContext?.http?.path ?? '/';
  const path = rawPath.startsWith(CONSOLE_API_BASE) ? rawPath.slice(CONSOLE_API_BASE.length) || '/' : rawPath;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {}))
    if (value !== undefined) headers[name.toLowerCase()] = value;
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {}))
    if (value !== undefined) query[name] = value;
  const body = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  const claims = (event.requestContext as unknown as AuthorizedContext)?.authorizer?.jwt?.claims;
  return { method: event.requestContext?.http?.method ?? 'GET', path, query, headers, body, claims };
}

/** The Lambda handler over a console API (the function file only builds the API and exports this). */
export function consoleApiHandler(api: ConsoleApi) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const response = await api(consoleRequestFromEvent(event));
    return { statusCode: response.status, headers: response.headers, body: response.body };
  };
}
