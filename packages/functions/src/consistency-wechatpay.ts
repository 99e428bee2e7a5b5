// Lambda (every 6 hours): samples recently changed WeChat Pay ledger objects per merchant, queries them from WeChat
// Pay, reports the drift rate and resyncs through the queue above 0.5 % (core/recon/consistency/sample.ts; setup in
// wiring/consistency.ts).
import { createConsistencyHandler } from './wiring/consistency.ts';

export const handler = createConsistencyHandler({ ...process.env, CONSISTENCY_PROVIDER: 'wechatpay' });
