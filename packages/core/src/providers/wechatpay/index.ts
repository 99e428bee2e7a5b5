// Public surface of the WeChat Pay APIv3 core, meant to be imported as a namespace:
//   import * as WechatPay from '@payhooks/core/providers/wechatpay';
// Ingress: assertBodySize → verifyNotification → parseNotification({ parser: 'ingress' }).
// Consumer: openNotification (parseNotification({ parser: 'consumer' }) → decrypt → normalize).
// Sandbox and the recon healer: encryptResource. Sandbox: buildSignatureHeaders, verifyAuthorization.
// Outbound client: buildAuthorization, verifyResponse.

export {
  type ParsedAuthorization,
  parseAuthorization,
  type VerifyAuthorizationInput,
  verifyAuthorization,
} from './authorization.ts';
export {
  CERTIFICATE_EXPIRY_WARNING_DAYS,
  CERTIFICATE_REFRESH_METRICS,
  type CertificateRefreshDeps,
  CertificateRefreshError,
  type MerchantRefreshOutcome,
  refreshPlatformCertificates,
  type VerifyPartStore,
} from './certificate-refresh.ts';
export {
  type BillAnswer,
  type FundFlowAccountType,
  type QueriedRefund,
  type QueriedTransaction,
  type RefundQuery,
  refundQuerySchema,
  type SubMerchantBillAnswer,
  type SubMerchantBillPart,
  type TradeBillType,
  type TransactionQuery,
  transactionQuerySchema,
  WECHATPAY_API_BASE_URL,
  WECHATPAY_API_CODES,
  WECHATPAY_API_FAILOVER_URL,
  WECHATPAY_CLIENT_CODES,
  WechatpayApiError,
  WechatpayClient,
  type WechatpayClientOptions,
  WechatpayDownloadExpiredError,
  type WechatpayMerchantCredentials,
} from './client.ts';
export {
  AUTHORIZATION_SCHEME,
  DEFAULT_TOLERANCE_SECONDS,
  HEADERS,
  RESOURCE_ALGORITHM,
  SIGNATURE_TYPE,
  SIGNTEST_PREFIX,
  WECHATPAY_CODES,
  type WechatpayCode,
} from './constants.ts';
export { aesGcmDecrypt, decryptResource, type EncryptedResource } from './decrypt.ts';
export {
  aesGcmEncrypt,
  type EncryptedResourceOutput,
  encryptResource,
  newResourceNonce,
} from './encrypt.ts';
export {
  type DecryptPart,
  joinMerchantParts,
  MERCHANT_PURPOSES,
  type MerchantParts,
  type MerchantPurpose,
  parseDecryptingMerchants,
  parseMerchantParts,
  parsePartsDocument,
  parseVerifyingMerchants,
  type SignPart,
  splitMerchantConfig,
  splitMerchantsDocument,
  type VerifyPart,
} from './merchant-parts.ts';
export {
  checkMerchantsDocument,
  type DecryptingMerchant,
  describeMerchant,
  type Merchant,
  type MerchantConfig,
  type MerchantDescription,
  type MerchantRegistry,
  type MerchantsDocument,
  normalizeSerial,
  parseMerchants,
  type VerificationKeyInfo,
  type VerifyingMerchant,
} from './merchants.ts';
export { notificationMessage, requestMessage } from './message.ts';
export {
  contentKind,
  type MerchantIdentity,
  normalizeNotification,
  paymentStatusFromTradeState,
  refundStatusFromRefundState,
} from './normalize.ts';
export {
  type Notification,
  type NotificationResource,
  notificationResourceSchema,
  notificationSchema,
  providerTime,
  REFUND_STATES,
  type RefundResource,
  type RefundState,
  refundResourceSchema,
  TRADE_STATES,
  type TradeState,
  type TransactionResource,
  transactionResourceSchema,
} from './notification.ts';
export { type OpenedNotification, openNotification } from './open-notification.ts';
export {
  assertBodySize,
  DEFAULT_MAX_BODY_BYTES,
  type NotificationParser,
  type ParsedNotification,
  parseNotification,
  parseNotificationBody,
} from './parse-notification.ts';
export {
  type CertificatesAnswer,
  certificatesAnswerSchema,
  keysForCertificatesAnswer,
  type NextVerificationKeys,
  nextVerificationKeys,
  openCertificatesAnswer,
  PLATFORM_CERTIFICATE_CODES,
  type PlatformCertificate,
  PlatformCertificateError,
  PUBLIC_KEY_ID_PREFIX,
  usesPlatformCertificates,
} from './platform-certificates.ts';
export {
  type BuildAuthorizationInput,
  type BuildSignatureHeadersInput,
  buildAuthorization,
  buildSignatureHeaders,
  newNonce,
  type SignatureHeaders,
  signMessage,
  unixSeconds,
} from './sign.ts';
export {
  lowerCaseHeaders,
  type VerifiedSignature,
  type VerifyNotificationInput,
  verifyNotification,
  verifyResponse,
} from './verify.ts';
