// Lambda: nightly WeChat Pay reconciliation (EventBridge, 10:30–12:00 Asia/Shanghai) of yesterday for each
// configured merchant (reconciliation/wechatpay.ts; dependencies in wiring/recon.ts).
import { createReconWechatpayHandler } from './wiring/recon.ts';

export {
  type ReconWechatpayDeps,
  runWechatpayReconciliation,
  selectMerchants,
  type WechatpayReconApi,
} from './reconciliation/wechatpay.ts';
export { createReconWechatpayHandler, reconWechatpayDepsFromEnv } from './wiring/recon.ts';

export const handler = createReconWechatpayHandler(process.env);
