// The console API's router: who is asking (verified claims only), may they (the route's roles), is a state change
// a same-origin JSON request with a bearer token (CSRF), then the route. Every refusal is one JSON line with a code.
import { ConfigError, EnqueueError, PayhooksError } from '@payhooks/core/errors';
import { errorFields } from '@payhooks/core/logger';
import type { Logger } from '@payhooks/core/ports';
import { ConsoleApiError } from './errors.ts';
import { json, problem } from './http.ts';
import {
  type ApiRoute,
  type Caller,
  type Claims,
  type ConsoleRequest,
  type ConsoleResponse,
  ROLES,
  type Role,
} from './types.ts';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * `cognito:groups` as API Gateway's JWT authorizer renders it: an array claim becomes the string `[finance ops]`
 * (bracketed, space-separated); a token decoded elsewhere keeps the array. Both, and a plain comma list, are read.
 */
export function groupsOf(claim: Claims[string] | undefined): string[] {
  if (Array.isArray(claim)) return claim.map(String);
  if (typeof claim !== 'string') return [];
  const inner = claim.trim().replace(/^\[(.*)\]$/s, '$1');
  return inner.split(/[\s,]+/).filter(Boolean);
}

export function callerFromClaims(claims: Claims | undefined): Caller | undefined {
  if (!claims) return undefined;
  const user = String(claims['cognito:username'] ?? claims.username ?? claims.sub ?? '');
  if (!user) return undefined;
  const roles = groupsOf(claims['cognito:groups']).filter((g): g is Role =>
    (ROLES as readonly string[]).includes(g),
  );
  return { user, roles };
}

interface CompiledRoute {
  route: ApiRoute;
  regex: RegExp;
  names: string[];
}

function compile(route: ApiRoute): CompiledRoute {
  const names: string[] = [];
  const pattern = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, regex: new RegExp(`^${pattern}$`), names };
}

/** Same-origin check: an Origin header, when the browser sends one, must name the host the request came to. */
function crossOrigin(request: ConsoleRequest, allowedOrigins: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (request.headers['sec-fetch-site'] === 'cross-site') return true;
  if (!origin) return false;
  if (allowedOrigins.includes(origin)) return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

export interface RouterOptions {
  /** Origins allowed besides the request's own host (e.g. a custom domain in front of the API). */
  allowedOrigins?: readonly string[];
  logger?: Logger;
}

export type ConsoleApi = (request: ConsoleRequest) => Promise<ConsoleResponse>;

export function createConsoleRouter(routes: readonly ApiRoute[], options: RouterOptions = {}): ConsoleApi {
  const compiled = routes.map(compile);
  const allowedOrigins = options.allowedOrigins ?? [];
  return async (request) => {
    const caller = callerFromClaims(request.claims);
    if (!caller)
      return problem(
        401,
        'CONSOLE_UNAUTHENTICATED',
        'sign in first: no verified token came with the request',
        {
          'www-authenticate': 'Bearer',
        },
      );
    const method = request.method.toUpperCase();
    let found: { route: ApiRoute; params: Record<string, string> } | undefined;
    let otherMethod = false;
    for (const { route, regex, names } of compiled) {
      const match = regex.exec(request.path);
      if (!match) continue;
      if (route.method !== method) {
        otherMethod = true;
        continue;
      }
      const params: Record<string, string> = {};
      try {
        names.forEach((name, i) => {
          params[name] = decodeURIComponent(match[i + 1]!);
        });
      } catch {
        return problem(400, 'CONSOLE_BAD_REQUEST', 'a path segment is not valid percent-encoded UTF-8');
      }
      found = { route, params };
      break;
    }
    if (!found)
      return otherMethod
        ? problem(405, 'CONSOLE_METHOD_NOT_ALLOWED', `${method} is not allowed on ${request.path}`)
        : problem(404, 'CONSOLE_NOT_FOUND', `no console API route ${request.path}`);
    const { route, params } = found;
    if (!route.roles.some((role) => caller.roles.includes(role)))
      return problem(
        403,
        'CONSOLE_FORBIDDEN',
        `${method} ${route.path} needs the ${route.roles.join(' or ')} role; you have ${caller.roles.join(', ') || 'none'}`,
      );
    let body: unknown;
    if (STATE_CHANGING.has(method)) {
      // Bearer tokens only (never cookies), JSON only (a cross-site form cannot send it without a CORS preflight,
      // which this API never grants), and the browser's Origin must be ours.
      if (!/^Bearer\s+\S+/i.test(request.headers.authorization ?? ''))
        return problem(401, 'CONSOLE_BEARER_REQUIRED', 'a state change needs Authorization: Bearer <token>');
      if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? ''))
        return problem(415, 'CONSOLE_JSON_REQUIRED', 'a state change needs Content-Type: application/json');
      if (crossOrigin(request, allowedOrigins))
        return problem(403, 'CONSOLE_CROSS_ORIGIN', 'cross-site request refused: Origin is not this console');
      try {
        body = request.body ? JSON.parse(request.body) : {};
      } catch {
        return problem(400, 'CONSOLE_BAD_JSON', 'the request body is not valid JSON');
      }
    }
    try {
      return await route.handle({ request, caller, params, json: body });
    } catch (error) {
      if (error instanceof ConsoleApiError) return problem(error.status, error.code, error.message);
      // Errors thrown on purpose (an invalid break transition, a missing reason, a file that is not a bill): their
      // messages are written for people and carry no secrets.
      if (error instanceof ConfigError) return problem(400, error.code, error.message);
      // The queue did not take a message (a replay, a resync): nothing changed, the same request may be retried.
      if (error instanceof EnqueueError)
        return problem(503, error.code, `${error.message}; nothing was sent — try again`, {
          'retry-after': '5',
        });
      if (error instanceof PayhooksError) return problem(409, error.code, error.message);
      options.logger?.error('console api route failed', {
        route: `${route.method} ${route.path}`,
        ...errorFields(error),
      });
      return json(500, { code: 'CONSOLE_INTERNAL', message: 'internal error; see the console API log' });
    }
  };
}
