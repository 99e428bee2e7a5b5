// The operations routes of the console API (`/console/api/ops/…`), role `ops` only: finance is refused (403) on
// every one of them — it never sees raw bodies, dead letters or replays. Roles come only from the verified JWT
// claims (`cognito:groups`, checked by the console router before any route runs). A replay is the second step of a
// two-step: the page lists and asks, the API re-drives exactly the message ids it is sent (dead-letters.ts).

import type { ConsoleApiDeps } from '../deps.ts';
import { json, problem } from '../http.ts';
import type { ApiRoute, ConsoleResponse, RouteContext } from '../types.ts';
import { listDeadLettersWithReasons, MAX_REPLAY, replayDeadLetterIds } from './dead-letters.ts';
import { OpsRequestError } from './errors.ts';
import { type EventSearch, getEventDetail, PROVIDERS, type Provider, searchEvents } from './events.ts';
import { lagByHour } from './lag.ts';
import { queueDepthHistory, queueStats } from './queues.ts';
import type { OpsQueues } from './types.ts';

function instant(text: string | undefined, name: string): Date | undefined {
  if (text === undefined || text === '') return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new OpsRequestError('OPS_BAD_QUERY', `${name} must be an ISO date-time, got "${text}"`);
  return date;
}

function providerOf(text: string | undefined): Provider | undefined {
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

/** Errors of ours become one JSON line; the rest goes to the router (500, logged). */
async function answer(run: () => Promise<unknown>): Promise<ConsoleResponse> {
  try {
    return json(200, await run());
  } catch (error) {
    if (error instanceof OpsRequestError) return problem(error.status, error.code, error.message);
    throw error;
  }
}

const ago = (deps: ConsoleApiDeps, h: number) => new Date(deps.clock.now().getTime() - h * 3_600_000);

export function opsRoutes(deps: ConsoleApiDeps): ApiRoute[] {
  const { sql } = deps;
  const queues = (): OpsQueues => {
    if (!deps.ops)
      throw new OpsRequestError(
        'OPS_NO_QUEUES',
        'this console API was built without its queues (ops deps): dead letters and queue depth are unavailable',
        503,
      );
    return deps.ops.queues;
  };
  const route = (
    method: ApiRoute['method'],
    path: string,
    handle: (context: RouteContext) => Promise<unknown>,
  ): ApiRoute => ({
    method,
    path,
    roles: ['ops'],
    handle: (context) => answer(() => handle(context)),
  });
  return [
    route('GET', '/ops/events', async ({ request: { query } }) => {
      const provider = providerOf(query.provider);
      const from = instant(query.from, 'from');
      const to = instant(query.to, 'to');
      const search: EventSearch = {
        ...(query.q ? { q: query.q } : {}),
        ...(provider ? { provider } : {}),
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
        ...(query.limit && Number(query.limit) > 0 ? { limit: Number(query.limit) } : {}),
      };
      return searchEvents(sql, search);
    }),
    route('GET', '/ops/events/{provider}/{eventId}', async ({ params }) => {
      const detail = await getEventDetail(sql, providerOf(params.provider)!, params.eventId!, {
        rawBody: true,
      });
      if (!detail)
        throw new OpsRequestError(
          'OPS_EVENT_NOT_FOUND',
          `no event ${params.eventId} of ${params.provider} in the inbox or the failure record`,
          404,
        );
      return detail;
    }),
    route('GET', '/ops/dead-letters', async ({ request: { query } }) => {
      const limit = Math.min(Math.max(1, Number(query.limit ?? 100) || 100), 1000);
      return listDeadLettersWithReasons(sql, queues(), limit);
    }),
    route('POST', '/ops/dead-letters/replay', async ({ json: body }) =>
      replayDeadLetterIds(queues(), replayIds(body)),
    ),
    route('GET', '/ops/queues', async () => queueStats(queues(), deps.clock.now(), deps.ops?.queueAges)),
    route('GET', '/ops/rejections', async ({ request: { query } }) => {
      const h = hours(query.hours, 24, 24 * 7);
      const rejections = deps.ops?.rejections;
      return rejections
        ? {
            available: true,
            hours: h,
            source: rejections.source ?? 'ring',
            ...(rejections.capacity === undefined ? {} : { capacity: rejections.capacity }),
            rejections: await rejections.since(ago(deps, h)),
          }
        : {
            available: false,
            hours: h,
            rejections: [],
            note: 'This console API was built without a source of rejections (the CallbackRejected metric).',
          };
    }),
    route('GET', '/ops/charts/lag', async ({ request: { query } }) => {
      const h = hours(query.hours, 24, 24 * 14);
      return { hours: h, buckets: await lagByHour(sql, ago(deps, h)) };
    }),
    route('GET', '/ops/charts/queue-depth', async ({ request: { query } }) => {
      const h = hours(query.hours, 6, 48);
      const since = ago(deps, h);
      const history = deps.ops?.depthHistory;
      return {
        hours: h,
        samples: history ? await history.since(since) : await queueDepthHistory(sql, since),
      };
    }),
  ];
}
