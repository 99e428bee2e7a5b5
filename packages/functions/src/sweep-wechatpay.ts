// Lambda (every 15 minutes): the WeChat Pay pending-order sweep (sweep/pending-orders.ts; setup in
// wiring/sweep.ts).
import { createSweepHandler } from './wiring/sweep.ts';

export { type SweepDeps, sweepPendingOrders } from './sweep/pending-orders.ts';
export { createSweepHandler, healersFor } from './wiring/sweep.ts';

export const handler = createSweepHandler(process.env);
