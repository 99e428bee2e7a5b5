// Lambda: POST /webhooks/wechatpay[/{merchant}] — verify, enqueue the still-encrypted body, answer 204 (setup in
// wiring/ingress.ts).
import { createWechatpayWebhookHandler, type HttpHandler } from './wiring/ingress.ts';

export { createWechatpayWebhookHandler };

export const handler: HttpHandler = createWechatpayWebhookHandler(process.env);
