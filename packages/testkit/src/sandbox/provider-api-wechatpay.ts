// The WeChat Pay half of the provider API sandbox: the merchant API as WeChat Pay runs it. Checks each request's
// Authorization signature with the merchant's public key, signs every JSON answer with the platform key the
// merchant configuration trusts, and serves trade / fund-flow / encrypted sub-merchant bills (gzip, SHA-1,
// short-lived download URLs) plus the order and refund queries (direct, and the partner queries of a service
// provider's sub-merchant orders), all built from transactions the caller registers.
// Knobs create the differences reconciliation must find (missing rows, amount differences, tampered hashes).

import crypto, { type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Clock } from '@payhooks/core/ports';
import {
  buildSignatureHeaders,
  encryptResource,
  type MerchantConfig,
  parseAuthorization,
  type RefundState,
  type TradeState,
  verifyAuthorization,
} from '@payhooks/core/providers/wechatpay';
import { type FundFlowBillRecord, parseBeijingTime, type TradeBillRecord } from '@payhooks/core/recon';
import * as BillFixtures from '../bills/bill-fixtures.ts';
import { writeFundFlowBill, writeTradeBill } from '../bills/bill-writer.ts';
import { SandboxError } from '../errors.ts';
import {
  bytesResponse,
  jsonResponse,
  type SandboxRequest,
  type SandboxResponse,
} from './provider-api-http.ts';
import type { SandboxMerchants } from './wechatpay-merchants.ts';
import { selfSignedCertificatePem } from './x509.ts';

/** What WeChat Pay knows about one merchant: its public key (to check requests) and WeChat's signing key. */
export interface WechatpaySandboxMerchant {
  mchid: string;
  appid: string;
  /** Merchant certificate serial (`serial_no` of the Authorization header), upper-case hex as issued. */
  certificateSerial: string;
  /** The merchant's key pair half: a private key (its public half is derived) or the public key. */
  merchantKey: KeyObject;
  /** The key answers are signed with; its public key must be in the merchant config's verificationKeys. */
  platformKey: { serial: string; privateKey: KeyObject };
  /** Platform certificate mode: what `GET /v3/certificates` lists, encrypted with `apiv3Key`. */
  platformCertificates?: SandboxPlatformCertificate[];
  apiv3Key?: string;
}

/** One platform certificate WeChat Pay holds for a merchant (its private half signs while it is current). */
export interface SandboxPlatformCertificate {
  serial: string;
  certificatePem: string;
  privateKey: KeyObject;
  effectiveAt: Date;
  expiresAt: Date;
}

/** From a merchant configuration entry (as the merchant holds it) and the platform key signing the answers. */
export function sandboxMerchantFromConfig(
  config: Pick<MerchantConfig, 'mchid' | 'appid' | 'privateKey' | 'certificateSerial'>,
  platformKey: { serial: string; privateKey: KeyObject },
): WechatpaySandboxMerchant {
  return {
    mchid: config.mchid,
    appid: config.appid,
    // What WeChat Pay issued: the serial as the merchant platform shows it (upper-case hex, zeros kept).
    certificateSerial: config.certificateSerial.toUpperCase(),
    merchantKey: crypto.createPrivateKey(config.privateKey),
    platformKey,
  };
}

/** From generateSandboxMerchants() (wechatpay-merchants.ts): answers signed with each merchant's first key. */
export function sandboxMerchantsFromGenerated(generated: SandboxMerchants): WechatpaySandboxMerchant[] {
  return generated.merchants.map((merchant) => {
    const config = generated.document.merchants.find((c) => c.mchid === merchant.mchid);
    if (!config)
      throw new SandboxError(
        'SANDBOX_UNKNOWN_MERCHANT',
        `no configuration for sandbox merchant ${merchant.mchid}`,
      );
    const [signing, certificateKey] = merchant.keys;
    const certificatePem = config.verificationKeys[certificateKey.serial];
    const notAfter = certificatePem
      ? new Date(new crypto.X509Certificate(certificatePem).validTo)
      : undefined;
    return {
      ...sandboxMerchantFromConfig(config, { serial: signing.serial, privateKey: signing.privateKey }),
      apiv3Key: config.apiv3Key,
      platformCertificates:
        certificatePem && notAfter
          ? [
              {
                serial: certificateKey.serial,
                certificatePem,
                privateKey: certificateKey.privateKey,
                effectiveAt: new Date(notAfter.getTime() - 5 * 365 * 86_400_000),
                expiresAt: notAfter,
              },
            ]
          : [],
    };
  });
}

type Fen = number | bigint;
/** A Date, Beijing wall time `YYYY-MM-DD HH:mm:ss`, or RFC 3339 with an offset. */
export type SandboxTime = Date | string;

export interface SandboxTransactionInput {
  /** Default: the first merchant. */
  mchid?: string;
  /** Service-provider sub-merchant (特约商户号); shows in sub-merchant fund-flow bills. */
  subMchid?: string;
  outTradeNo: string;
  /** Generated for paid states; NOTPAY/CLOSED/PAYERROR orders have none. */
  transactionId?: string;
  amountFen: Fen;
  currency?: string;
  /** Default SUCCESS. A successful refund turns the queried state into REFUND. */
  tradeState?: TradeState;
  tradeType?: string;
  bankType?: string;
  openid?: string;
  productName?: string;
  attach?: string;
  /** Required for SUCCESS; decides the bill date (Asia/Shanghai day). */
  successTime?: SandboxTime;
  /** Default round(amount × 0.6%). */
  feeFen?: Fen;
  feeRate?: string;
  /** false: the payment is in the bill and queryable but must never be notified ("missing in ledger"). */
  notified?: boolean;
  /** false: notified and queryable but absent from every bill ("missing at provider"). */
  inBill?: boolean;
  /** The amount the bills show, when it should differ from the real one ("amount mismatch"). */
  billAmountFen?: Fen;
}

export interface SandboxRefundInput {
  outTradeNo: string;
  outRefundNo: string;
  refundId?: string;
  amountFen: Fen;
  /** Default SUCCESS; only successful refunds appear in bills. */
  status?: RefundState;
  createTime?: SandboxTime;
  /** Required for SUCCESS. */
  successTime?: SandboxTime;
  /** Fee returned to the merchant; default round(refund × 0.6%). */
  feeFen?: Fen;
  notified?: boolean;
  inBill?: boolean;
  billAmountFen?: Fen;
}

export interface SandboxTransaction {
  mchid: string;
  appid: string;
  subMchid: string | null;
  outTradeNo: string;
  transactionId: string | null;
  amountFen: bigint;
  currency: string;
  tradeState: TradeState;
  tradeType: string;
  bankType: string;
  openid: string;
  productName: string;
  attach: string;
  successTime: Date | null;
  feeFen: bigint;
  feeRate: string;
  notified: boolean;
  inBill: boolean;
  billAmountFen: bigint;
}

export interface SandboxRefund {
  mchid: string;
  outTradeNo: string;
  transactionId: string;
  outRefundNo: string;
  refundId: string;
  amountFen: bigint;
  status: RefundState;
  createTime: Date;
  successTime: Date | null;
  feeFen: bigint;
  notified: boolean;
  inBill: boolean;
  billAmountFen: bigint;
}

/** Deliberate misbehaviour, set on `wechatpay.faults`. */
export interface WechatpaySandboxFaults {
  /** Bill dates (YYYY-MM-DD) whose announced hash_value is wrong. */
  tamperedHashDates: Set<string>;
  /** How a day without a bill is answered: 400 NO_STATEMENT_EXIST (default) or 404 naming it in the message. */
  emptyDay: 'code' | 'message-404';
  /** Bill dates (YYYY-MM-DD) whose bills are still being generated: 400 STATEMENT_CREATING (账单生成中). */
  notReadyDates: Set<string>;
  /** The next N API answers are HTTP `failStatus` (5xx exercises retries and failover). */
  failNext: number;
  failStatus: number;
  /** The next JSON answer is altered after signing, sent unsigned, or signed with an unknown key. */
  nextAnswer: 'tampered-body' | 'unsigned' | 'wrong-key' | null;
  /** Lifetime of download URLs (WeChat: 30 s to 5 min). */
  downloadUrlTtlSeconds: number;
  /** Number of parts sub-merchant bills are split into. */
  subMerchantBillParts: number;
  /** `/v3/certificates` encrypts under another APIv3 key (the merchant's GCM tag check must fail). */
  certificatesUnderWrongKey: boolean;
}

interface Download {
  body: Buffer;
  expiresAt: number;
  mchid: string;
}

const BEIJING_MS = 8 * 3600 * 1000;
const beijingDay = (date: Date) => new Date(date.getTime() + BEIJING_MS).toISOString().slice(0, 10);
const rfc3339 = (date: Date) => `${new Date(date.getTime() + BEIJING_MS).toISOString().slice(0, 19)}+08:00`;
const feeOf = (fen: bigint) => (fen * 6n + 500n) / 1000n; // 0.6%, half up
const PAID: ReadonlySet<TradeState> = new Set(['SUCCESS', 'REFUND']);

function toTime(value: SandboxTime, what: string): Date {
  const date =
    value instanceof Date
      ? value
      : /[zZ]|[+-]\d\d:\d\d$/.test(value)
        ? new Date(value)
        : parseBeijingTime(value);
  if (!date || Number.isNaN(date.getTime()))
    throw new SandboxError('SANDBOX_INVALID_TIME', `${what} is not a valid time`);
  return date;
}

const wechatError = (status: number, code: string, message: string) => ({ status, body: { code, message } });

/** The WeChat Pay merchant API of the sandbox: register data, set faults, and let the server route requests. */
export class WechatpayProviderSandbox {
  readonly faults: WechatpaySandboxFaults = {
    tamperedHashDates: new Set(),
    emptyDay: 'code',
    notReadyDates: new Set(),
    failNext: 0,
    failStatus: 500,
    nextAnswer: null,
    downloadUrlTtlSeconds: 60,
    subMerchantBillParts: 2,
    certificatesUnderWrongKey: false,
  };
  private readonly merchants = new Map<string, WechatpaySandboxMerchant & { publicKey: KeyObject }>();
  private readonly transactionsByOutTradeNo = new Map<string, SandboxTransaction>();
  private readonly refundsByOutRefundNo = new Map<string, SandboxRefund>();
  private readonly downloads = new Map<string, Download>();
  private sequence = 0;
  /** Set by the server once it listens. */
  baseUrl = '';
  /** How many requests passed the Authorization check (tests assert retries and signatures with it). */
  acceptedRequests = 0;

  constructor(
    merchants: readonly WechatpaySandboxMerchant[],
    private readonly clock: Clock,
  ) {
    if (merchants.length === 0)
      throw new SandboxError('SANDBOX_NO_MERCHANTS', 'the WeChat Pay sandbox needs at least one merchant');
    for (const merchant of merchants) {
      const publicKey =
        merchant.merchantKey.type === 'private'
          ? crypto.createPublicKey(merchant.merchantKey)
          : merchant.merchantKey;
      this.merchants.set(merchant.mchid, { ...merchant, publicKey });
    }
  }

  private next(): number {
    this.sequence += 1;
    return this.sequence;
  }

  private merchantFor(mchid: string | undefined): WechatpaySandboxMerchant & { publicKey: KeyObject } {
    const merchant = mchid === undefined ? this.merchants.values().next().value : this.merchants.get(mchid);
    if (!merchant) throw new SandboxError('SANDBOX_UNKNOWN_MERCHANT', `unknown sandbox merchant ${mchid}`);
    return merchant;
  }

  /** Registers an order (paid or not); returns the stored record with generated ids. */
  addTransaction(input: SandboxTransactionInput): SandboxTransaction {
    const merchant = this.merchantFor(input.mchid);
    const state = input.tradeState ?? 'SUCCESS';
    const paid = PAID.has(state);
    if (paid && input.successTime === undefined)
      throw new SandboxError('SANDBOX_INVALID_ORDER', `paid order ${input.outTradeNo} needs successTime`);
    if (this.transactionsByOutTradeNo.has(input.outTradeNo))
      throw new SandboxError('SANDBOX_ORDER_EXISTS', `order ${input.outTradeNo} exists`);
    const amountFen = BigInt(input.amountFen);
    const successTime = input.successTime === undefined ? null : toTime(input.successTime, 'successTime');
    const day = (successTime ? beijingDay(successTime) : beijingDay(this.clock.now())).replaceAll('-', '');
    const tx: SandboxTransaction = {
      mchid: merchant.mchid,
      appid: merchant.appid,
      subMchid: input.subMchid ?? null,
      outTradeNo: input.outTradeNo,
      transactionId: paid
        ? (input.transactionId ?? `4200002345${day}${String(this.next()).padStart(10, '0')}`)
        : null,
      amountFen,
      currency: input.currency ?? 'CNY',
      tradeState: state,
      tradeType: input.tradeType ?? 'JSAPI',
      bankType: input.bankType ?? 'OTHERS',
      openid: input.openid ?? 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      productName: input.productName ?? '商品',
      attach: input.attach ?? '',
      successTime: paid ? successTime : null,
      feeFen: input.feeFen === undefined ? feeOf(amountFen) : BigInt(input.feeFen),
      feeRate: input.feeRate ?? '0.60%',
      notified: input.notified ?? true,
      inBill: input.inBill ?? true,
      billAmountFen: input.billAmountFen === undefined ? amountFen : BigInt(input.billAmountFen),
    };
    this.transactionsByOutTradeNo.set(tx.outTradeNo, tx);
    return tx;
  }

  /** Registers a refund of a paid order. */
  addRefund(input: SandboxRefundInput): SandboxRefund {
    const tx = this.transactionsByOutTradeNo.get(input.outTradeNo);
    if (!tx?.transactionId)
      throw new SandboxError(
        'SANDBOX_INVALID_REFUND',
        `refund ${input.outRefundNo}: order ${input.outTradeNo} is not paid`,
      );
    const status = input.status ?? 'SUCCESS';
    if (status === 'SUCCESS' && input.successTime === undefined) {
      throw new SandboxError(
        'SANDBOX_INVALID_REFUND',
        `successful refund ${input.outRefundNo} needs successTime`,
      );
    }
    const amountFen = BigInt(input.amountFen);
    const successTime = input.successTime === undefined ? null : toTime(input.successTime, 'successTime');
    const createTime =
      input.createTime === undefined
        ? (successTime ?? this.clock.now())
        : toTime(input.createTime, 'createTime');
    const refund: SandboxRefund = {
      mchid: tx.mchid,
      outTradeNo: tx.outTradeNo,
      transactionId: tx.transactionId,
      outRefundNo: input.outRefundNo,
      refundId:
        input.refundId ??
        `50300${beijingDay(createTime).replaceAll('-', '')}${String(this.next()).padStart(12, '0')}`,
      amountFen,
      status,
      createTime,
      successTime: status === 'SUCCESS' ? successTime : null,
      feeFen: input.feeFen === undefined ? feeOf(amountFen) : BigInt(input.feeFen),
      notified: input.notified ?? true,
      inBill: input.inBill ?? true,
      billAmountFen: input.billAmountFen === undefined ? amountFen : BigInt(input.billAmountFen),
    };
    this.refundsByOutRefundNo.set(refund.outRefundNo, refund);
    if (status === 'SUCCESS') tx.tradeState = 'REFUND';
    return refund;
  }

  /**
   * A refund's state moves on at WeChat Pay (e.g. an ABNORMAL refund retried by hand and paid) without a
   * notification: the refund query answers the new state, and a successful refund turns the order into REFUND.
   */
  setRefundStatus(outRefundNo: string, status: RefundState, successTime?: SandboxTime): SandboxRefund {
    const refund = this.refundsByOutRefundNo.get(outRefundNo);
    if (!refund) throw new SandboxError('SANDBOX_INVALID_REFUND', `no refund ${outRefundNo}`);
    if (status === 'SUCCESS' && successTime === undefined)
      throw new SandboxError('SANDBOX_INVALID_REFUND', `successful refund ${outRefundNo} needs successTime`);
    refund.status = status;
    refund.successTime = status === 'SUCCESS' ? toTime(successTime!, 'successTime') : null;
    const tx = this.transactionsByOutTradeNo.get(refund.outTradeNo);
    if (tx && status === 'SUCCESS') tx.tradeState = 'REFUND';
    return refund;
  }

  transactions(): SandboxTransaction[] {
    return [...this.transactionsByOutTradeNo.values()];
  }

  refunds(): SandboxRefund[] {
    return [...this.refundsByOutRefundNo.values()];
  }

  /**
   * The order as the query API answers it (also the decrypted resource of its notification): a direct order as
   * `/v3/pay/transactions/…` does, a sub-merchant order as `/v3/pay/partner/transactions/…` does.
   */
  transactionResource(outTradeNo: string): Record<string, unknown> | undefined {
    const tx = this.transactionsByOutTradeNo.get(outTradeNo);
    if (!tx) return undefined;
    const paid = tx.transactionId !== null;
    // A sub-merchant order answers the partner query's shape: the service provider as sp_*, then the sub-merchant.
    const ids =
      tx.subMchid === null
        ? { appid: tx.appid, mchid: tx.mchid }
        : { sp_appid: tx.appid, sp_mchid: tx.mchid, sub_mchid: tx.subMchid };
    return {
      ...ids,
      out_trade_no: tx.outTradeNo,
      ...(paid ? { transaction_id: tx.transactionId } : {}),
      trade_type: paid ? tx.tradeType : '',
      trade_state: tx.tradeState,
      trade_state_desc:
        tx.tradeState === 'NOTPAY' ? '订单未支付' : tx.tradeState === 'REFUND' ? '转入退款' : '支付成功',
      ...(paid ? { bank_type: tx.bankType } : {}),
      attach: tx.attach,
      ...(tx.successTime ? { success_time: rfc3339(tx.successTime) } : {}),
      ...(paid ? { payer: tx.subMchid === null ? { openid: tx.openid } : { sp_openid: tx.openid } } : {}),
      // Unpaid orders answer without currency (payer_currency only), as WeChat does.
      amount: paid
        ? {
            total: Number(tx.amountFen),
            payer_total: Number(tx.amountFen),
            currency: tx.currency,
            payer_currency: tx.currency,
          }
        : { total: Number(tx.amountFen), payer_currency: tx.currency },
    };
  }

  /** The refund as the refund query answers it (`status`, not the notification's `refund_status`). */
  refundResource(outRefundNo: string): Record<string, unknown> | undefined {
    const refund = this.refundsByOutRefundNo.get(outRefundNo);
    const tx = refund && this.transactionsByOutTradeNo.get(refund.outTradeNo);
    if (!refund || !tx) return undefined;
    return {
      refund_id: refund.refundId,
      out_refund_no: refund.outRefundNo,
      transaction_id: refund.transactionId,
      out_trade_no: refund.outTradeNo,
      channel: 'ORIGINAL',
      user_received_account: '支付用户零钱',
      ...(refund.successTime ? { success_time: rfc3339(refund.successTime) } : {}),
      create_time: rfc3339(refund.createTime),
      status: refund.status,
      funds_account: 'AVAILABLE',
      amount: {
        total: Number(tx.amountFen),
        refund: Number(refund.amountFen),
        payer_total: Number(tx.amountFen),
        payer_refund: Number(refund.amountFen),
        settlement_refund: Number(refund.amountFen),
        settlement_total: Number(tx.amountFen),
        discount_refund: 0,
        currency: tx.currency,
      },
    };
  }

  /** Handles a `/v3/…` request. */
  async handle(request: SandboxRequest): Promise<SandboxResponse> {
    const path = request.url.pathname;
    let merchant: WechatpaySandboxMerchant & { publicKey: KeyObject };
    try {
      const claimed = parseAuthorization(request.headers.authorization);
      const known = this.merchants.get(claimed.mchid);
      if (!known)
        return this.answer(undefined, wechatError(401, 'SIGN_ERROR', `unknown mchid ${claimed.mchid}`));
      verifyAuthorization({
        authorization: request.headers.authorization,
        method: request.method,
        pathWithQuery: request.pathWithQuery,
        body: request.body,
        // Strict: serial_no must be the serial this sandbox issued, character for character (upper-case hex).
        merchantKeys: new Map([[known.certificateSerial, known.publicKey]]),
        now: this.clock.now(),
      });
      merchant = known;
    } catch (error) {
      const message = error instanceof Error ? error.message : 'signature check failed';
      return this.answer(undefined, wechatError(401, 'SIGN_ERROR', message));
    }
    this.acceptedRequests += 1;
    if (this.faults.failNext > 0) {
      this.faults.failNext -= 1;
      return this.answer(
        merchant,
        wechatError(this.faults.failStatus, 'SYSTEM_ERROR', 'sandbox: injected failure'),
      );
    }
    if (request.method !== 'GET')
      return this.answer(merchant, wechatError(405, 'METHOD_NOT_ALLOWED', 'GET only'));
    const q = request.url.searchParams;
    if (path === '/v3/certificates') return this.certificates(merchant);
    if (path === '/v3/billdownload/file') return this.download(merchant, q.get('token') ?? '');
    if (path === '/v3/bill/tradebill') return this.tradeBill(merchant, q);
    if (path === '/v3/bill/fundflowbill') return this.fundFlowBill(merchant, q);
    if (path === '/v3/bill/sub-merchant-fundflowbill') return this.subMerchantBill(merchant, q);
    let match = /^\/v3\/pay\/(partner\/)?transactions\/(out-trade-no|id)\/([^/]+)$/.exec(path);
    if (match) {
      const [, partner, by, raw] = match as unknown as [string, string | undefined, string, string];
      const value = decodeURIComponent(raw);
      return this.queryTransaction(merchant, q, partner !== undefined, (tx) =>
        by === 'id' ? tx.transactionId === value : tx.outTradeNo === value,
      );
    }
    match = /^\/v3\/refund\/domestic\/refunds\/([^/]+)$/.exec(path);
    if (match) {
      const refund = this.refundsByOutRefundNo.get(decodeURIComponent(match[1]!));
      // A service provider names the refund's sub-merchant (`?sub_mchid=`); a direct merchant names none.
      const sub = refund && this.transactionsByOutTradeNo.get(refund.outTradeNo)?.subMchid;
      if (!refund || refund.mchid !== merchant.mchid || (sub ?? null) !== q.get('sub_mchid')) {
        return this.answer(merchant, wechatError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在'));
      }
      return this.answer(merchant, { status: 200, body: this.refundResource(refund.outRefundNo) });
    }
    return this.answer(merchant, wechatError(404, 'NOT_FOUND', `no such API ${path}`));
  }

  /**
   * Starts a platform-certificate rotation as WeChat Pay does it: a new certificate is listed beside the old,
   * whose expire_time is moved to `overlapHours` ahead (WeChat: 24 h). With `signWithNew` answers are signed
   * with the new certificate from now on. Returns the new certificate (tests sign notifications with its key).
   */
  rotatePlatformCertificate(
    mchid?: string,
    options: { overlapHours?: number; signWithNew?: boolean } = {},
  ): SandboxPlatformCertificate {
    const merchant = this.merchantFor(mchid);
    merchant.platformCertificates ??= [];
    const list = merchant.platformCertificates;
    const now = this.clock.now();
    const overlapEnd = new Date(now.getTime() + (options.overlapHours ?? 24) * 3_600_000);
    for (const old of list) if (old.expiresAt > overlapEnd) old.expiresAt = overlapEnd;
    const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const serial = crypto.randomBytes(20).toString('hex').toUpperCase().replace(/^0+/, '1');
    const expiresAt = new Date(now.getTime() + 5 * 365 * 86_400_000);
    const certificate: SandboxPlatformCertificate = {
      serial,
      certificatePem: selfSignedCertificatePem({
        publicKey,
        privateKey,
        serialHex: serial,
        commonName: `Tenpay.com sandbox platform certificate ${merchant.mchid}`,
        notBefore: new Date(now.getTime() - 60_000),
        notAfter: expiresAt,
      }),
      privateKey,
      effectiveAt: now,
      expiresAt,
    };
    list.push(certificate);
    if (options.signWithNew) merchant.platformKey = { serial, privateKey };
    return certificate;
  }

  /** Ends a rotation: certificates past their expire_time are no longer listed. */
  retireExpiredPlatformCertificates(mchid?: string): void {
    const merchant = this.merchantFor(mchid);
    const now = this.clock.now();
    merchant.platformCertificates = (merchant.platformCertificates ?? []).filter((c) => c.expiresAt > now);
  }

  /** `GET /v3/certificates`: every listed certificate, AES-256-GCM encrypted with the APIv3 key. */
  private certificates(merchant: WechatpaySandboxMerchant): SandboxResponse {
    const apiv3Key = this.faults.certificatesUnderWrongKey ? 'W'.repeat(32) : merchant.apiv3Key;
    if (!apiv3Key) {
      return this.answer(merchant, wechatError(400, 'INVALID_REQUEST', 'merchant uses public-key mode only'));
    }
    return this.answer(merchant, {
      status: 200,
      body: {
        data: (merchant.platformCertificates ?? []).map((certificate) => ({
          serial_no: certificate.serial,
          effective_time: rfc3339(certificate.effectiveAt),
          expire_time: rfc3339(certificate.expiresAt),
          encrypt_certificate: encryptResource(certificate.certificatePem, apiv3Key, {
            associatedData: 'certificate',
          }),
        })),
      },
    });
  }

  /** Signs a JSON answer with the merchant's platform key, applying `faults.nextAnswer`. */
  private answer(
    merchant: WechatpaySandboxMerchant | undefined,
    answer: { status: number; body: unknown },
  ): SandboxResponse {
    const body = Buffer.from(JSON.stringify(answer.body), 'utf8');
    const response = jsonResponse(answer.status, answer.body, { 'request-id': crypto.randomUUID() });
    if (!merchant) return response;
    const fault = this.faults.nextAnswer;
    this.faults.nextAnswer = null;
    if (fault === 'unsigned') return response;
    const privateKey =
      fault === 'wrong-key'
        ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
        : merchant.platformKey.privateKey;
    const headers = buildSignatureHeaders({
      body,
      privateKey,
      serial: merchant.platformKey.serial,
      now: this.clock.now(),
    });
    Object.assign(response.headers, headers);
    if (fault === 'tampered-body') {
      const tampered = body
        .toString('utf8')
        .replace(/"total":(\d+)/, (_, n: string) => `"total":${Number(n) + 1}`);
      response.body = Buffer.from(tampered === body.toString('utf8') ? `${tampered} ` : tampered, 'utf8');
    }
    return response;
  }

  private checkDate(q: URLSearchParams): string | undefined {
    const date = q.get('bill_date') ?? '';
    return /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : undefined;
  }

  /** The bill of `date` is still being generated (WeChat's FAQ: STATEMENT_CREATING, 账单生成中). */
  private creating(merchant: WechatpaySandboxMerchant, date: string): SandboxResponse | undefined {
    if (!this.faults.notReadyDates.has(date)) return undefined;
    return this.answer(merchant, wechatError(400, 'STATEMENT_CREATING', '账单生成中'));
  }

  private noStatement(merchant: WechatpaySandboxMerchant): SandboxResponse {
    return this.faults.emptyDay === 'code'
      ? this.answer(merchant, wechatError(400, 'NO_STATEMENT_EXIST', '账单不存在'))
      : this.answer(
          merchant,
          wechatError(404, 'RESOURCE_NOT_EXISTS', 'NO_STATEMENT_EXIST: the bill does not exist'),
        );
  }

  private offerDownload(mchid: string, body: Buffer): string {
    const token = crypto.randomBytes(18).toString('base64url');
    this.downloads.set(token, {
      body,
      mchid,
      expiresAt: this.clock.now().getTime() + this.faults.downloadUrlTtlSeconds * 1000,
    });
    return `${this.baseUrl}/v3/billdownload/file?token=${token}`;
  }

  private billAnswer(
    merchant: WechatpaySandboxMerchant,
    date: string,
    text: string | Uint8Array,
    gzip: boolean,
  ): SandboxResponse {
    return this.packedAnswer(merchant, date, BillFixtures.packBill(text, { gzip }));
  }

  private packedAnswer(
    merchant: WechatpaySandboxMerchant,
    date: string,
    packed: BillFixtures.BillDownload,
  ): SandboxResponse {
    return this.answer(merchant, {
      status: 200,
      body: {
        hash_type: packed.hashType,
        hash_value: this.faults.tamperedHashDates.has(date) ? tamper(packed.hashValue) : packed.hashValue,
        download_url: this.offerDownload(merchant.mchid, packed.body),
      },
    });
  }

  private async tradeBill(merchant: WechatpaySandboxMerchant, q: URLSearchParams): Promise<SandboxResponse> {
    const date = this.checkDate(q);
    const billType = q.get('bill_type') ?? 'ALL';
    if (!date || !['ALL', 'SUCCESS', 'REFUND'].includes(billType)) {
      return this.answer(
        merchant,
        wechatError(400, 'PARAM_ERROR', 'bill_date must be YYYY-MM-DD; bill_type ALL|SUCCESS|REFUND'),
      );
    }
    const creating = this.creating(merchant, date);
    if (creating) return creating;
    const records = this.tradeRecords(merchant.mchid, date, billType as 'ALL' | 'SUCCESS' | 'REFUND');
    if (records.length === 0) return this.noStatement(merchant);
    const packed = await packStreamed(
      writeTradeBill(records, { billType: billType as 'ALL' | 'SUCCESS' | 'REFUND' }),
      q.get('tar_type') === 'GZIP',
    );
    return this.packedAnswer(merchant, date, packed);
  }

  private async fundFlowBill(
    merchant: WechatpaySandboxMerchant,
    q: URLSearchParams,
  ): Promise<SandboxResponse> {
    const date = this.checkDate(q);
    const accountType = q.get('account_type') ?? 'BASIC';
    if (!date || !['BASIC', 'OPERATION', 'FEES'].includes(accountType)) {
      return this.answer(
        merchant,
        wechatError(400, 'PARAM_ERROR', 'bill_date must be YYYY-MM-DD; account_type BASIC|OPERATION|FEES'),
      );
    }
    const creating = this.creating(merchant, date);
    if (creating) return creating;
    // Everything the sandbox books lands in the basic account.
    const records = accountType === 'BASIC' ? this.fundFlowRecords(merchant.mchid, date, null) : [];
    if (records.length === 0) return this.noStatement(merchant);
    return this.billAnswer(
      merchant,
      date,
      await collectText(writeFundFlowBill(records)),
      q.get('tar_type') === 'GZIP',
    );
  }

  private async subMerchantBill(
    merchant: WechatpaySandboxMerchant & { publicKey: KeyObject },
    q: URLSearchParams,
  ): Promise<SandboxResponse> {
    const date = this.checkDate(q);
    const subMchid = q.get('sub_mchid') ?? '';
    const accountType = q.get('account_type') ?? 'BASIC';
    if (!date || !subMchid || q.get('algorithm') !== 'AEAD_AES_256_GCM') {
      return this.answer(
        merchant,
        wechatError(400, 'PARAM_ERROR', 'sub_mchid, bill_date and algorithm=AEAD_AES_256_GCM are required'),
      );
    }
    const creating = this.creating(merchant, date);
    if (creating) return creating;
    const records = accountType === 'BASIC' ? this.fundFlowRecords(merchant.mchid, date, subMchid) : [];
    if (records.length === 0) return this.noStatement(merchant);
    const parts = BillFixtures.packEncryptedBill(await collectText(writeFundFlowBill(records)), {
      merchantPublicKey: merchant.publicKey,
      parts: this.faults.subMerchantBillParts,
      gzip: q.get('tar_type') === 'GZIP',
    });
    const tampered = this.faults.tamperedHashDates.has(date);
    return this.answer(merchant, {
      status: 200,
      body: {
        download_bill_count: parts.length,
        // Listed in reverse: callers must order by bill_sequence, not by position.
        download_bill_list: [...parts].reverse().map((part) => ({
          bill_sequence: part.billSequence,
          download_url: this.offerDownload(merchant.mchid, part.body),
          encrypt_key: part.encryptKey,
          hash_type: part.hashType,
          hash_value: tampered && part.billSequence === 1 ? tamper(part.hashValue) : part.hashValue,
          nonce: part.nonce,
        })),
      },
    });
  }

  private download(merchant: WechatpaySandboxMerchant, token: string): SandboxResponse {
    const entry = this.downloads.get(token);
    if (!entry || entry.mchid !== merchant.mchid || entry.expiresAt <= this.clock.now().getTime()) {
      if (entry && entry.expiresAt <= this.clock.now().getTime()) this.downloads.delete(token);
      return this.answer(merchant, wechatError(400, 'INVALID_REQUEST', '下载链接已失效，请重新申请'));
    }
    // Files are not signed (WeChat signs only JSON answers).
    return bytesResponse(200, entry.body, 'application/octet-stream');
  }

  /**
   * The direct query (`?mchid=`) finds a merchant's own orders; the partner query (`?sp_mchid=&sub_mchid=`) a
   * service provider's orders of that sub-merchant. Neither finds the other's: 404 ORDER_NOT_EXIST.
   */
  private queryTransaction(
    merchant: WechatpaySandboxMerchant,
    q: URLSearchParams,
    partner: boolean,
    matches: (tx: SandboxTransaction) => boolean,
  ): SandboxResponse {
    const subMchid = partner ? q.get('sub_mchid') : null;
    if (q.get(partner ? 'sp_mchid' : 'mchid') !== merchant.mchid) {
      const field = partner ? 'sp_mchid' : 'mchid';
      return this.answer(
        merchant,
        wechatError(400, 'PARAM_ERROR', `${field} must be the requesting merchant`),
      );
    }
    if (partner && !subMchid) {
      return this.answer(merchant, wechatError(400, 'PARAM_ERROR', 'sub_mchid is required'));
    }
    const tx = [...this.transactionsByOutTradeNo.values()].find(
      (t) => t.mchid === merchant.mchid && t.subMchid === subMchid && matches(t),
    );
    if (!tx) return this.answer(merchant, wechatError(404, 'ORDER_NOT_EXIST', '订单不存在'));
    return this.answer(merchant, { status: 200, body: this.transactionResource(tx.outTradeNo) });
  }

  private tradeRecords(
    mchid: string,
    date: string,
    billType: 'ALL' | 'SUCCESS' | 'REFUND',
  ): TradeBillRecord[] {
    const rows: TradeBillRecord[] = [];
    for (const tx of this.transactionsByOutTradeNo.values()) {
      if (tx.mchid !== mchid || !tx.inBill || !tx.successTime || !tx.transactionId) continue;
      if (billType !== 'REFUND' && beijingDay(tx.successTime) === date) rows.push(paymentRow(tx));
    }
    if (billType !== 'SUCCESS') {
      for (const refund of this.refundsByOutRefundNo.values()) {
        const tx = this.transactionsByOutTradeNo.get(refund.outTradeNo)!;
        if (refund.mchid !== mchid || !refund.inBill || refund.status !== 'SUCCESS' || !refund.successTime)
          continue;
        if (beijingDay(refund.successTime) === date) rows.push(refundRow(tx, refund));
      }
    }
    return rows.sort((a, b) => a.tradeTime.getTime() - b.tradeTime.getTime());
  }

  /** The basic account's movements (payments in, fees and refunds out) with a running balance. */
  private fundFlowRecords(mchid: string, date: string, subMchid: string | null): FundFlowBillRecord[] {
    const moves: Omit<FundFlowBillRecord, 'balanceFen' | 'flowId'>[] = [];
    const base = { applicant: 'system', note: '', voucherNo: '' };
    for (const tx of this.transactionsByOutTradeNo.values()) {
      if (tx.mchid !== mchid || !tx.inBill || !tx.successTime || !tx.transactionId) continue;
      if (subMchid !== null && tx.subMchid !== subMchid) continue;
      moves.push({
        ...base,
        bookedAt: tx.successTime,
        businessId: tx.transactionId,
        businessName: '交易',
        businessType: '交易',
        direction: 'income',
        amountFen: tx.billAmountFen,
      });
      if (tx.feeFen > 0n) {
        moves.push({
          ...base,
          bookedAt: tx.successTime,
          businessId: tx.transactionId,
          businessName: '扣除交易手续费',
          businessType: '扣除交易手续费',
          direction: 'expense',
          amountFen: tx.feeFen,
        });
      }
    }
    for (const refund of this.refundsByOutRefundNo.values()) {
      const tx = this.transactionsByOutTradeNo.get(refund.outTradeNo)!;
      if (refund.mchid !== mchid || !refund.inBill || refund.status !== 'SUCCESS' || !refund.successTime)
        continue;
      if (subMchid !== null && tx.subMchid !== subMchid) continue;
      moves.push({
        ...base,
        bookedAt: refund.successTime,
        businessId: refund.refundId,
        businessName: '退款',
        businessType: '退款',
        direction: 'expense',
        amountFen: refund.billAmountFen,
      });
    }
    moves.sort((a, b) => a.bookedAt.getTime() - b.bookedAt.getTime());
    let balance = 0n;
    const out: FundFlowBillRecord[] = [];
    moves.forEach((move, index) => {
      balance += move.direction === 'income' ? move.amountFen : -move.amountFen;
      if (beijingDay(move.bookedAt) === date) {
        out.push({
          ...move,
          balanceFen: balance,
          flowId: `FLOW${beijingDay(move.bookedAt).replaceAll('-', '')}${String(index + 1).padStart(8, '0')}`,
        });
      }
    });
    return out;
  }
}

function paymentRow(tx: SandboxTransaction): TradeBillRecord {
  return {
    tradeTime: tx.successTime!,
    appid: tx.appid,
    mchid: tx.mchid,
    subMchid: tx.subMchid,
    deviceInfo: '',
    transactionId: tx.transactionId!,
    outTradeNo: tx.outTradeNo,
    openid: tx.openid,
    tradeType: tx.tradeType,
    tradeState: 'SUCCESS',
    bankType: tx.bankType,
    currency: tx.currency,
    settlementAmountFen: tx.billAmountFen,
    couponAmountFen: 0n,
    refundRequestedAt: null,
    refundSucceededAt: null,
    refundId: null,
    outRefundNo: null,
    refundAmountFen: 0n,
    rechargeCouponRefundFen: 0n,
    refundType: '',
    refundStatus: '',
    productName: tx.productName,
    attach: tx.attach,
    feeMicro: tx.feeFen * 1000n,
    feeRate: tx.feeRate,
    orderAmountFen: tx.billAmountFen,
    requestedRefundAmountFen: 0n,
    rateNote: '',
  };
}

function refundRow(tx: SandboxTransaction, refund: SandboxRefund): TradeBillRecord {
  return {
    ...paymentRow(tx),
    tradeTime: refund.successTime!,
    tradeState: 'REFUND',
    settlementAmountFen: 0n,
    refundRequestedAt: refund.createTime,
    refundSucceededAt: refund.successTime,
    refundId: refund.refundId,
    outRefundNo: refund.outRefundNo,
    refundAmountFen: refund.billAmountFen,
    refundType: 'ORIGINAL',
    refundStatus: 'SUCCESS',
    feeMicro: -refund.feeFen * 1000n,
    orderAmountFen: 0n,
    requestedRefundAmountFen: refund.billAmountFen,
  };
}

/** Flips the last hex digit: a hash that no file has. */
function tamper(hash: string): string {
  const last = hash.at(-1) === '0' ? '1' : '0';
  return hash.slice(0, -1) + last;
}

/**
 * BillFixtures.packBill of the bill writer's text, without ever holding the whole text: each chunk is hashed and
 * gzipped as it comes (a 10,000,000-row trade bill is ≈ 3 GB of text, beyond V8's longest string; its gzip is a
 * tenth of that).
 */
async function packStreamed(
  chunks: AsyncIterable<string>,
  gzip: boolean,
): Promise<BillFixtures.BillDownload> {
  const hash = crypto.createHash('sha1');
  const out: Buffer[] = [];
  const gzipper = gzip ? createGzip() : undefined;
  gzipper?.on('data', (chunk: Buffer) => out.push(chunk));
  const finished = gzipper ? once(gzipper, 'end') : undefined;
  let pending = '';
  const flush = async () => {
    const bytes = Buffer.from(pending, 'utf8');
    pending = '';
    hash.update(bytes);
    if (!gzipper) out.push(bytes);
    else if (!gzipper.write(bytes)) await once(gzipper, 'drain');
  };
  for await (const chunk of chunks) {
    pending += chunk;
    if (pending.length >= 1 << 20) await flush();
  }
  await flush();
  gzipper?.end();
  await finished;
  return { body: Buffer.concat(out), hashType: 'SHA1', hashValue: hash.digest('hex') };
}

/**
 * The bill writer's text as UTF-8 bytes. Not one string: a 10,000,000-row bill (≈ 3 GB) is beyond V8's longest
 * string (≈ 512 MiB), so the text is encoded chunk by chunk and joined as a Buffer.
 */
async function collectText(chunks: AsyncIterable<string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  let pending = '';
  for await (const chunk of chunks) {
    pending += chunk;
    if (pending.length >= 1 << 20) {
      parts.push(Buffer.from(pending, 'utf8'));
      pending = '';
    }
  }
  if (pending.length > 0) parts.push(Buffer.from(pending, 'utf8'));
  return Buffer.concat(parts);
}
