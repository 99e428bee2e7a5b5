// Lambda: nightly WeChat Pay reconciliation (EventBridge, 10:30–12:00 Asia/Shanghai) of yesterday for each
// configured merchant (reconciliation/wechatpay.ts; dependencies in wiring/recon.ts).
import { merchantsFromEnv } from './wiring/merchants.ts';
import { createReconWechatpayHandler } from './wiring/recon.ts';
import { guarded } from './wiring/stage-guard.ts';

export {
  type ReconWechatpayDeps,
  runWechatpayReconciliation,
  selectMerchants,
  type WechatpayReconApi,
} from './reconciliation/wechatpay.ts';
export { createReconWechatpayHandler, reconWechatpayDepsFromEnv } from './wiring/recon.ts';

// A scheduled job: the guard's own read of the merchant parts (validated before anything is built) costs one
// extra SSM call per cold start, off any request path.
export const handler = guarded(
  process.env,
  { service: 'recon-wechatpay', merchants: () => merchantsFromEnv(process.env) },
  createReconWechatpayHandler(process.env),
);
