// Lambda (every 6 hours): samples recently changed Stripe ledger objects per account, retrieves them from Stripe,
// reports the drift rate and resyncs through the queue above 0.5 % (core/recon/consistency/sample.ts; setup in
// wiring/consistency.ts).
import { createConsistencyHandler } from './wiring/consistency.ts';

export const handler = createConsistencyHandler({ ...process.env, CONSISTENCY_PROVIDER: 'stripe' });
