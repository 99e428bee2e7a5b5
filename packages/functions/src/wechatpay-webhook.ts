// Lambda: POST /webhooks/wechatpay[/{merchant}] — verify, enqueue the still-encrypted body, answer 204 (setup in
// wiring/wechatpay-ingress.ts).
import type { HttpHandler } from './wiring/ingress.ts';
import { guarded } from './wiring/stage-guard.ts';
import { createWechatpayWebhook, createWechatpayWebhookHandler } from './wiring/wechatpay-ingress.ts';

export { createWechatpayWebhookHandler };

const webhook = createWechatpayWebhook(process.env);

// The guard validates the very verify parts the handler then uses (one SSM read per cold start, not two).
export const handler: HttpHandler = guarded(
  process.env,
  { service: 'wechatpay-webhook', merchants: () => webhook.verificationKeys.get() },
  webhook.handler,
);
