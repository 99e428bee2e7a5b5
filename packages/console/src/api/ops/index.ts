// The operations routes (role `ops`): event search and detail, dead letters and replay, queue state, rejections,
// charts (routes.ts). The router composes them with the finance routes (api/index.ts).
export { opsRoutes } from './routes.ts';
export type { OpsDeps, OpsQueues } from './types.ts';
