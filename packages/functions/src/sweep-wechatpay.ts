// Lambda (every 15 minutes): the WeChat Pay pending-order sweep (sweep/pending-orders.ts; setup in
// wiring/sweep.ts).
import { merchantsFromEnv } from './wiring/merchants.ts';
import { guarded } from './wiring/stage-guard.ts';
import { createSweepHandler } from './wiring/sweep.ts';

export { type SweepDeps, sweepPendingOrders } from './sweep/pending-orders.ts';
export { createSweepHandler, healersFor } from './wiring/sweep.ts';

// Off any request path, like recon-wechatpay: the guard reads and validates the merchant parts itself.
export const handler = guarded(
  process.env,
  { service: 'sweep-wechatpay', merchants: () => merchantsFromEnv(process.env) },
  createSweepHandler(process.env),
);
