// The finance routes (role `finance`; ops may read but not act): overview, break queue and detail, the break
// actions, report downloads through short-lived links, and reconciling an uploaded bill/report file.
import type { ConsoleApiDeps } from './deps.ts';
import type { ApiRoute } from './types.ts';

export function financeRoutes(_deps: ConsoleApiDeps): ApiRoute[] {
  return [];
}
