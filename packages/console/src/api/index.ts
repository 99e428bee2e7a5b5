// The console API: one router over the session, finance and operations routes (docs/console.md lists them with
// their roles). Entry point of `@payhooks/console/api`.
import type { ConsoleApiDeps } from './deps.ts';
import { financeRoutes } from './finance.ts';
import { opsRoutes } from './ops/index.ts';
import { type ConsoleApi, createConsoleRouter } from './router.ts';
import { sessionRoutes } from './session.ts';
import type { ApiRoute } from './types.ts';

export { CONSOLE_API_BASE, consoleApiHandler, consoleRequestFromEvent } from './apigw.ts';
export type { ConsoleApiDeps, ReconUpload, ReconUploadAnswer, ReconUploads, UploadStatus } from './deps.ts';
export { ConsoleApiError } from './errors.ts';
export type { RecentRejections, RejectionCount } from './ops/rejections.ts';
export type {
  OldestMessageAge,
  OpsDeps,
  OpsQueues,
  QueueAges,
  QueueDepth,
  QueueDepthHistory,
  QueueDepthSample,
} from './ops/types.ts';
export { type ConsoleApi, callerFromClaims, createConsoleRouter, groupsOf } from './router.ts';
export * from './types.ts';

/** Every route of the console API, with its roles (the role-refusal tests walk this list). */
export function consoleRoutes(deps: ConsoleApiDeps): ApiRoute[] {
  return [...sessionRoutes(), ...financeRoutes(deps), ...opsRoutes(deps)];
}

export function createConsoleApi(deps: ConsoleApiDeps): ConsoleApi {
  return createConsoleRouter(consoleRoutes(deps), {
    ...(deps.allowedOrigins ? { allowedOrigins: deps.allowedOrigins } : {}),
    logger: deps.logger,
  });
}
