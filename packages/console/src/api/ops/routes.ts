// The operations routes of the console API (`/console/api/ops/…`), role `ops` only: finance is refused (403) on
// every one of them — it never sees raw bodies, dead letters or replays. Roles come only from the verified JWT
// claims (`cognito:groups`), never from the request itself. A replay is the second step of a two-step: the page
// lists and asks, the API re-drives exactly the message ids it is sent (dead-letters.ts).

import { PayhooksError } from '@payhooks/core/errors';
import type { Sql } from '@payhooks/core/ledger';
import {
  listDeadLettersWithReasons,
  MAX_REPLAY,
  type QueueRefs,
  replayDeadLetterIds,
} from './dead-letters.ts';
import { OpsRequestError } from './errors.ts';
import { type EventSearch, getEventDetail, PROVIDERS, type Provider, searchEvents } from './events.ts';
import { lagByHour } from './lag.ts';
import { queueDepthHistory, queueStats } from './queues.ts';
import type { RecentRejections } from './rejections.ts';

export interface OpsRequest {
  method: string;
  /** The path below the console API's prefix, e.g. `/ops/events`. */
  path: string;
  query: Readonly<Record<string, string | undefined>>;
  headers: Readonly<Record<string, string | undefined>>;
  /** The request body: raw text or already parsed JSON. */
  body: unknown;
  /** Verified JWT claims (API Gateway's JWT authorizer, or the local gateway's check); undefined = no session. */
  claims: Readonly<Record<string, unknown>> | undefined;
}

export interface OpsResponse {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export interface OpsDeps {
  /** The read-only database role (reads only: a replay goes through SQS). */
  sql: Sql;
  queues: QueueRefs;
  /** Locally, the gateway's ring of recent rejections; absent in a stage (CloudWatch only). */
  rejections?: RecentRejections;
  now?: () => Date;
}

export const OPS_PREFIX = '/ops/';

/**
 * The groups in verified claims. API Gateway's JWT authorizer flattens an array claim to the string
 * `[finance ops]`; the local gateway passes the array itself.
 */
export function groupsOf(claims: Readonly<Record<string, unknown>> | undefined): string[] {
  const raw = claims?.['cognito:groups'];
  if (Array.isArray(raw)) return raw.map(String);
  if (typeof raw === 'string')
    return raw
      .replace(/^\[|\]$/g, '')
      .split(/[\s,]+/)
      .filter(Boolean);
  return [];
}

const json = (status: number, body: unknown): OpsResponse => ({
  status,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body,
});

const problem = (status: number, code: string, message: string) => json(status, { code, message });

function instant(text: string | undefined, name: string): Date | undefined {
  if (text === undefined || text === '') return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new OpsRequestError('OPS_BAD_QUERY', `${name} must be an ISO date-time, got "${text}"`);
  return date;
}

function provider(text: string | undefined): Provider | undefined {
  if (text === undefined || text === '') return undefined;
  if (!(PROVIDERS as readonly string[]).includes(text))
    throw new OpsRequestError('OPS_BAD_QUERY', `provider must be one of ${PROVIDERS.join(', ')}`);
  return text as Provider;
}

function hours(text: string | undefined, fallback: number, max: number): number {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new OpsRequestError('OPS_BAD_QUERY', `hours must be a whole number from 1 to ${max}`);
  return n;
}

function bodyOf(request: OpsRequest): unknown {
  if (typeof request.body !== 'string') return request.body;
  try {
    return JSON.parse(request.body);
  } catch {
    throw new OpsRequestError('OPS_BAD_BODY', 'the request body is not JSON');
  }
}

function replayIds(body: unknown): string[] {
  const ids = (body as { messageIds?: unknown } | null)?.messageIds;
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    ids.length > MAX_REPLAY ||
    !ids.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 200)
  )
    throw new OpsRequestError(
      'OPS_BAD_BODY',
      `send {"messageIds": [...]}: 1 to ${MAX_REPLAY} message ids of dead letters, exactly as listed`,
    );
  return ids as string[];
}

type Handler = (deps: OpsDeps, request: OpsRequest, params: string[]) => Promise<OpsResponse>;

const ROUTES: { method: string; pattern: RegExp; handle: Handler }[] = [
  {
    method: 'GET',
    pattern: /^\/ops\/events$/,
    handle: async ({ sql }, { query }) => {
      const search: EventSearch = {
        ...(query.q ? { q: query.q } : {}),
        ...(provider(query.provider) ? { provider: provider(query.provider)! } : {}),
        ...(instant(query.from, 'from') ? { from: instant(query.from, 'from')! } : {}),
        ...(instant(query.to, 'to') ? { to: instant(query.to, 'to')! } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
        ...(query.limit ? { limit: Number(query.limit) || undefined } : {}),
      };
      return json(200, await searchEvents(sql, search));
    },
  },
  {
    method: 'GET',
    pattern: /^\/ops\/events\/([^/]+)\/([^/]+)$/,
    handle: async ({ sql }, _request, [p, eventId]) => {
      const detail = await getEventDetail(sql, provider(p)!, eventId!, { rawBody: true });
      return detail
        ? json(200, detail)
        : problem(404, 'OPS_EVENT_NOT_FOUND', `no event ${eventId} of ${p} in the inbox or failure record`);
    },
  },
  {
    method: 'GET',
    pattern: /^\/ops\/dead-letters$/,
    handle: async ({ sql, queues }, { query }) => {
      const limit = Math.min(Math.max(1, Number(query.limit ?? 100) || 100), 1000);
      return json(200, await listDeadLettersWithReasons(sql, queues, limit));
    },
  },
  {
    method: 'POST',
    pattern: /^\/ops\/dead-letters\/replay$/,
    handle: async ({ queues }, request) =>
      json(200, await replayDeadLetterIds(queues, replayIds(bodyOf(request)))),
  },
  {
    method: 'GET',
    pattern: /^\/ops\/queues$/,
    handle: async ({ queues, now }, _request) => json(200, await queueStats(queues, now?.() ?? new Date())),
  },
  {
    method: 'GET',
    pattern: /^\/ops\/rejections$/,
    handle: async ({ rejections, now }, { query }) => {
      const h = hours(query.hours, 24, 24 * 7);
      const since = new Date((now?.() ?? new Date()).getTime() - h * 3_600_000);
      return json(
        200,
        rejections
          ? { available: true, hours: h, capacity: rejections.capacity, rejections: rejections.since(since) }
          : {
              available: false,
              hours: h,
              rejections: [],
              note: 'In a stage, rejections are the CloudWatch metric CallbackRejected (by provider and reason); the console API does not read CloudWatch.',
            },
      );
    },
  },
  {
    method: 'GET',
    pattern: /^\/ops\/charts\/lag$/,
    handle: async ({ sql, now }, { query }) => {
      const h = hours(query.hours, 24, 24 * 14);
      return json(200, {
        hours: h,
        buckets: await lagByHour(sql, new Date((now?.() ?? new Date()).getTime() - h * 3_600_000)),
      });
    },
  },
  {
    method: 'GET',
    pattern: /^\/ops\/charts\/queue-depth$/,
    handle: async ({ sql, now }, { query }) => {
      const h = hours(query.hours, 6, 48);
      return json(200, {
        hours: h,
        samples: await queueDepthHistory(sql, new Date((now?.() ?? new Date()).getTime() - h * 3_600_000)),
      });
    },
  },
];

/**
 * Answers an operations request, or returns undefined when the path is not an operations route (the console
 * router then tries its own). 401 without a session, 403 without the `ops` group.
 */
export async function handleOpsRequest(deps: OpsDeps, request: OpsRequest): Promise<OpsResponse | undefined> {
  if (!request.path.startsWith(OPS_PREFIX)) return undefined;
  const matches = ROUTES.map((route) => ({ route, match: route.pattern.exec(request.path) })).filter(
    (m) => m.match,
  );
  if (matches.length === 0) return problem(404, 'OPS_NOT_FOUND', `no operations route ${request.path}`);
  const found = matches.find((m) => m.route.method === request.method);
  if (!found) return problem(405, 'OPS_METHOD', `${request.method} is not allowed on ${request.path}`);
  if (!request.claims) return problem(401, 'CONSOLE_NO_SESSION', 'sign in first');
  if (!groupsOf(request.claims).includes('ops'))
    return problem(403, 'CONSOLE_FORBIDDEN', 'operations pages need the ops role');
  let params: string[];
  try {
    params = found.match!.slice(1).map((p) => decodeURIComponent(p));
  } catch {
    return problem(400, 'OPS_BAD_PATH', 'the path is not valid percent-encoding');
  }
  try {
    return await found.route.handle(deps, request, params);
  } catch (error) {
    if (error instanceof OpsRequestError) return problem(error.status, error.code, error.message);
    // Thrown on purpose below us (configuration, the queue refusing): one line, no stack, no payload.
    if (error instanceof PayhooksError) return problem(502, error.code, error.message);
    throw error;
  }
}
