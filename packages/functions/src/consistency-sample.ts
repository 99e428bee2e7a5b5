// Lambda (every 6 hours, one function per provider: CONSISTENCY_PROVIDER): samples recently changed ledger objects,
// asks the provider for them, reports the drift rate and resyncs through the queue above 0.5 %
// (core/recon/consistency/sample.ts; setup in wiring/consistency.ts).
import { createConsistencyHandler } from './wiring/consistency.ts';

export {
  createConsistencyHandler,
  runConsistencySampling,
  stripeConsistencyDeps,
  wechatpayConsistencyDeps,
} from './wiring/consistency.ts';

export const handler = createConsistencyHandler(process.env);
