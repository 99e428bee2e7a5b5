// Lambda: POST /webhooks/wechatpay[/{merchant}] — verify, enqueue the still-encrypted body, answer 204 (setup in
// wiring/wechatpay-ingress.ts).
import type { HttpHandler } from './wiring/ingress.ts';
import { createWechatpayWebhookHandler } from './wiring/wechatpay-ingress.ts';

export { createWechatpayWebhookHandler };

export const handler: HttpHandler = createWechatpayWebhookHandler(process.env);
