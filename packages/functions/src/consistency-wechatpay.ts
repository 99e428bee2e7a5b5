// Lambda (every 6 hours): samples recently changed WeChat Pay ledger objects per merchant, queries them from WeChat
// Pay, reports the drift rate and resyncs through the queue above 0.5 % (core/recon/consistency/sample.ts; setup in
// wiring/consistency.ts).
// The wiring (both providers' clients, stripe-node, the SDK) loads with the first invocation rather than at
// import: a scheduled function has no caller waiting on its init phase (docs/decisions.md, session 5 cold start).
import { once } from './config.ts';

const load = once(async () =>
  (await import('./wiring/consistency.ts')).createConsistencyHandler({
    ...process.env,
    CONSISTENCY_PROVIDER: 'wechatpay',
  }),
);

export const handler = async (): Promise<unknown> => (await load())();
