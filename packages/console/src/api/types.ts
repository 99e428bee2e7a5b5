// The console API's own small request/response shapes: the Lambda adapter (functions/handlers/console-api.ts) and
// the local gateway both turn an API Gateway v2 event into a ConsoleRequest, so the router knows nothing of either.

export const ROLES = ['finance', 'ops'] as const;
export type Role = (typeof ROLES)[number];

/** Verified JWT claims as API Gateway's JWT authorizer passes them (`requestContext.authorizer.jwt.claims`). */
export type Claims = Record<string, string | number | boolean | string[]>;

export interface ConsoleRequest {
  method: string;
  /** The path below the API's base, e.g. `/breaks/42` for `/console/api/breaks/42`. */
  path: string;
  query: Record<string, string>;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** The decoded body (UTF-8 text), empty when there is none. */
  body: string;
  /** Undefined when no verified token came with the request. */
  claims: Claims | undefined;
}

export interface ConsoleResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Who is asking: from the verified claims only. */
export interface Caller {
  /** `cognito:username`, else `username`, else `sub`: what the audit trail records as the actor. */
  user: string;
  roles: Role[];
}

export interface RouteContext {
  request: ConsoleRequest;
  caller: Caller;
  params: Record<string, string>;
  /** The parsed JSON body of a state-changing request (checked content type), else undefined. */
  json: unknown;
}

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** `/breaks/{id}`: `{name}` matches one path segment. */
  path: string;
  /** Roles allowed to call the route; any other verified caller gets 403. */
  roles: readonly Role[];
  handle(context: RouteContext): Promise<ConsoleResponse>;
}
