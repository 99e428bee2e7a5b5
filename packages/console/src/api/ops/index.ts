// The operations routes (role `ops`): event search and detail, dead letters and replay, queue state, rejections.
// Built by the consoleops part; the router composes them with the finance routes (api/index.ts).
import type { ConsoleApiDeps } from '../deps.ts';
import type { ApiRoute } from '../types.ts';

export function opsRoutes(_deps: ConsoleApiDeps): ApiRoute[] {
  return [];
}
