// Lambda (EventBridge schedule): refreshes the WeChat Pay platform certificates of merchants in certificate mode
// and stores them in their verify parameters (wiring/certificates.ts; logic in core certificate-refresh.ts).
import { createCertificateRefreshHandler } from './wiring/certificates.ts';

export { createCertificateRefreshHandler };

export const handler = createCertificateRefreshHandler(process.env);
