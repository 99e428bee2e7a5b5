// WeChat Pay APIv3 merchant API client (bills, bill downloads, order and refund queries) on node:crypto + fetch.
// Every request carries a fresh Authorization signature; every JSON answer is verified against the merchant's
// configured WeChat Pay keys before it is parsed, so a forged or altered answer never reaches reconciliation or
// healing. Bill files are streamed (never buffered whole); their integrity is checked by recon's openBill.
// Chosen over wechatpay-node-v3, which does not verify responses and buffers downloads (docs/decisions.md).
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import * as z from 'zod';
import { PayhooksError, VerificationError } from '../../errors.ts';
import type { PaymentStatus, RefundStatus } from '../../ledger/changes.ts';
import { type Clock, systemClock } from '../../ports.ts';
import { DEFAULT_TOLERANCE_SECONDS, HEADERS } from './constants.ts';
import type { Merchant } from './merchants.ts';
import { paymentStatusFromTradeState, refundStatusFromRefundState } from './normalize.ts';
import { providerTime, REFUND_STATES, TRADE_STATES } from './notification.ts';
import {
  keysForCertificatesAnswer,
  openCertificatesAnswer,
  type PlatformCertificate,
} from './platform-certificates.ts';
import { buildAuthorization } from './sign.ts';
import { lowerCaseHeaders, verifyResponse } from './verify.ts';

export const WECHATPAY_API_BASE_URL = 'https://api.mch.weixin.qq.com';
export const WECHATPAY_API_FAILOVER_URL = 'https://api2.mch.weixin.qq.com';

/**
 * Codes of WechatpayApiError raised by the client itself. Errors answered by WeChat Pay carry WeChat's own code
 * from the body (`SIGN_ERROR`, `ORDER_NOT_EXIST`, `INVALID_REQUEST`, …) instead.
 */
export const WECHATPAY_CLIENT_CODES = {
  /** No HTTP answer: DNS, connection reset, TLS (after the retries on both hosts). */
  network: 'WECHATPAY_API_NETWORK',
  /** No answer within timeoutMs (after the retries). */
  timeout: 'WECHATPAY_API_TIMEOUT',
  /** The answer's Wechatpay-* signature is missing, stale, from an unknown key or does not match. */
  responseUnverified: 'WECHATPAY_API_RESPONSE_UNVERIFIED',
  /** A verified answer does not have the documented shape. */
  responseInvalid: 'WECHATPAY_API_RESPONSE_INVALID',
  /** A non-2xx answer without WeChat's `{code,message}` body. */
  httpError: 'WECHATPAY_API_HTTP_ERROR',
  /** A download URL outside the configured API hosts (the signed request is not sent there). */
  downloadHost: 'WECHATPAY_API_DOWNLOAD_HOST',
} as const;

/** WeChat's codes the client gives a meaning to. */
export const WECHATPAY_API_CODES = {
  noStatement: 'NO_STATEMENT_EXIST',
  /** The bill is still being generated (账单生成中): ask again later, it is not "no trades that day". */
  statementCreating: 'STATEMENT_CREATING',
  invalidRequest: 'INVALID_REQUEST',
  signError: 'SIGN_ERROR',
  orderNotExist: 'ORDER_NOT_EXIST',
  resourceNotExists: 'RESOURCE_NOT_EXISTS',
} as const;

/** A merchant API call failed. `code` is WeChat's code from the answer body, or one of WECHATPAY_CLIENT_CODES. */
export class WechatpayApiError extends PayhooksError {
  /** HTTP status of the answer; null when there was none (network error, timeout). */
  readonly status: number | null;
  /** WeChat's `message` (not our text), when the body had one. */
  readonly providerMessage: string | null;
  /** Whether the error answer carried a valid WeChat Pay signature (false also when unsigned). */
  readonly signed: boolean;
  constructor(
    code: string,
    message: string,
    details: {
      status?: number | null;
      providerMessage?: string | null;
      signed?: boolean;
      cause?: unknown;
    } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status ?? null;
    this.providerMessage = details.providerMessage ?? null;
    this.signed = details.signed ?? false;
  }
}

/** The download URL expired or was already used (`400 INVALID_REQUEST`): request the bill again, then download. */
export class WechatpayDownloadExpiredError extends WechatpayApiError {}

export type WechatpayMerchantCredentials = Pick<
  Merchant,
  'mchid' | 'privateKey' | 'certificateSerial' | 'verificationKeys'
>;

export interface WechatpayClientOptions {
  /** From MerchantRegistry: signs requests (privateKey, certificateSerial) and verifies answers (verificationKeys). */
  merchant: WechatpayMerchantCredentials;
  /** Default https://api.mch.weixin.qq.com. */
  baseUrl?: string;
  /**
   * Host tried when the primary answers 5xx or not at all. Default https://api2.mch.weixin.qq.com when baseUrl
   * is the default, none otherwise; pass null to disable.
   */
  failoverBaseUrl?: string | null;
  fetch?: typeof fetch;
  clock?: Clock;
  /** Per attempt, until the answer's headers arrive (default 10 s). Bodies stream without a deadline. */
  timeoutMs?: number;
  /** Extra attempts after a network error, timeout or 5xx, alternating hosts (default 2). */
  retries?: number;
  /** Pause before retry n (1-based); default 200 ms × n. Injected by tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Window for the answers' Wechatpay-Timestamp (default 300 s). */
  toleranceSeconds?: number;
}

export type TradeBillType = 'ALL' | 'SUCCESS' | 'REFUND';
export type FundFlowAccountType = 'BASIC' | 'OPERATION' | 'FEES';

/** The bill API's answer: where to download the file and its SHA-1, or that the day has no bill. */
export type BillAnswer =
  | { empty: false; hashType: string; hashValue: string; downloadUrl: string }
  | {
      empty: true;
      /** NO_STATEMENT_EXIST as answered; `signed` says whether that error answer was signature-verified. */
      code: string;
      signed: boolean;
    };

export interface SubMerchantBillPart {
  billSequence: number;
  downloadUrl: string;
  /** base64 RSA-OAEP/SHA-1 wrapped AES key: recon's decryptEncryptKey / openBillParts unwrap it. */
  encryptKey: string;
  hashType: string;
  hashValue: string;
  nonce: string;
}

export type SubMerchantBillAnswer =
  | { empty: false; count: number; parts: SubMerchantBillPart[] }
  | { empty: true; code: string; signed: boolean };

const text = z.string().min(1);
const fen = z.int().nonnegative();
const currency = z.string().regex(/^[A-Za-z]{3}$/);

const billAnswerSchema = z.object({ hash_type: text, hash_value: text, download_url: text });
const subMerchantBillSchema = z.object({
  download_bill_count: z.int().nonnegative(),
  download_bill_list: z.array(
    z.object({
      bill_sequence: z.int().positive(),
      download_url: text,
      encrypt_key: text,
      hash_type: text,
      hash_value: text,
      nonce: text,
    }),
  ),
});

/**
 * The order query's answer. Unlike a notification, an unpaid order (NOTPAY, CLOSED, …) has no transaction_id and
 * no success_time, and its amount may lack `currency` (WeChat answers payer_currency only): CNY is assumed then.
 */
export const transactionQuerySchema = z.object({
  appid: z.string().optional(),
  mchid: z.string().optional(),
  sp_appid: z.string().optional(),
  sp_mchid: z.string().optional(),
  sub_appid: z.string().optional(),
  sub_mchid: z.string().optional(),
  out_trade_no: text,
  transaction_id: z.string().optional(),
  trade_type: z.string().optional(),
  trade_state: z.enum(TRADE_STATES),
  trade_state_desc: z.string().optional(),
  bank_type: z.string().optional(),
  attach: z.string().optional(),
  success_time: providerTime.optional(),
  payer: z.record(z.string(), z.unknown()).optional(),
  amount: z.object({
    total: fen,
    payer_total: fen.optional(),
    currency: currency.optional(),
    payer_currency: z.string().optional(),
  }),
  promotion_detail: z.array(z.unknown()).optional(),
});
export type TransactionQuery = z.infer<typeof transactionQuerySchema>;

/** The refund query's answer: the state is `status` here (`refund_status` in notifications). */
export const refundQuerySchema = z.object({
  refund_id: text,
  out_refund_no: text,
  transaction_id: text,
  out_trade_no: text,
  channel: z.string().optional(),
  user_received_account: z.string().optional(),
  success_time: providerTime.optional(),
  create_time: providerTime.optional(),
  status: z.enum(REFUND_STATES),
  funds_account: z.string().optional(),
  amount: z.object({
    total: fen,
    refund: fen,
    payer_total: fen.optional(),
    payer_refund: fen.optional(),
    settlement_refund: fen.optional(),
    settlement_total: fen.optional(),
    discount_refund: fen.optional(),
    currency: currency.optional(),
  }),
});
export type RefundQuery = z.infer<typeof refundQuerySchema>;

export interface QueriedTransaction {
  transaction: TransactionQuery;
  /** The ledger's payment status for trade_state (normalize.ts mapping). */
  status: PaymentStatus;
  /** The verified answer body, kept as evidence for healed rows. */
  rawBody: string;
}

export interface QueriedRefund {
  refund: RefundQuery;
  status: RefundStatus;
  rawBody: string;
}

const BILL_DATE = /^\d{4}-\d{2}-\d{2}$/;
const errorBodySchema = z.object({ code: z.string().min(1), message: z.string().optional() });

function isRetryableStatus(status: number): boolean {
  return status >= 500;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface RawAnswer {
  response: Response;
  origin: string;
}

/** The merchant API client; one per merchant, created once per container. */
export class WechatpayClient {
  private readonly merchant: WechatpayMerchantCredentials;
  private readonly origins: readonly string[];
  private readonly fetchImpl: typeof fetch;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly toleranceSeconds: number;

  constructor(options: WechatpayClientOptions) {
    this.merchant = options.merchant;
    const base = new URL(options.baseUrl ?? WECHATPAY_API_BASE_URL).origin;
    const failover =
      options.failoverBaseUrl === undefined
        ? base === WECHATPAY_API_BASE_URL
          ? WECHATPAY_API_FAILOVER_URL
          : null
        : options.failoverBaseUrl;
    this.origins = failover ? [base, new URL(failover).origin] : [base];
    this.fetchImpl = options.fetch ?? fetch;
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retries = options.retries ?? 2;
    this.sleep = options.sleep ?? ((ms) => defaultSleep(ms));
    this.toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  }

  /** `GET /v3/bill/tradebill`; a day without activity answers `{ empty: true }`. */
  async tradeBill(
    billDate: string,
    billType: TradeBillType = 'ALL',
    options: { gzip?: boolean } = {},
  ): Promise<BillAnswer> {
    const query = new URLSearchParams({ bill_date: checkBillDate(billDate), bill_type: billType });
    if (options.gzip) query.set('tar_type', 'GZIP');
    return this.billAnswer(`/v3/bill/tradebill?${query}`);
  }

  /** `GET /v3/bill/fundflowbill`; a day without activity answers `{ empty: true }`. */
  async fundFlowBill(
    billDate: string,
    accountType: FundFlowAccountType = 'BASIC',
    options: { gzip?: boolean } = {},
  ): Promise<BillAnswer> {
    const query = new URLSearchParams({ bill_date: checkBillDate(billDate), account_type: accountType });
    if (options.gzip) query.set('tar_type', 'GZIP');
    return this.billAnswer(`/v3/bill/fundflowbill?${query}`);
  }

  /**
   * `GET /v3/bill/sub-merchant-fundflowbill` (service providers): encrypted parts to download, unwrap and join in
   * bill_sequence order (recon's openBillParts with `body: () => client.download(part.downloadUrl)`).
   */
  async subMerchantFundFlowBill(
    subMchid: string,
    billDate: string,
    accountType: FundFlowAccountType = 'BASIC',
    options: { gzip?: boolean } = {},
  ): Promise<SubMerchantBillAnswer> {
    const query = new URLSearchParams({
      sub_mchid: subMchid,
      bill_date: checkBillDate(billDate),
      account_type: accountType,
      algorithm: 'AEAD_AES_256_GCM',
    });
    if (options.gzip) query.set('tar_type', 'GZIP');
    try {
      const body = await this.getJson(`/v3/bill/sub-merchant-fundflowbill?${query}`);
      const parsed = parseWith(subMerchantBillSchema, body.json, 'sub-merchant fund-flow bill');
      return {
        empty: false,
        count: parsed.download_bill_count,
        parts: parsed.download_bill_list.map((part) => ({
          billSequence: part.bill_sequence,
          downloadUrl: part.download_url,
          encryptKey: part.encrypt_key,
          hashType: part.hash_type,
          hashValue: part.hash_value,
          nonce: part.nonce,
        })),
      };
    } catch (error) {
      const empty = emptyBill(error);
      if (empty) return empty;
      throw error;
    }
  }

  /**
   * Downloads a bill file as a stream (gzip bytes when requested with gzip; not Content-Encoding). The request is
   * signed; the answer is not (WeChat does not sign files): check it with recon's openBill / openBillParts and the
   * announced hash. Throws WechatpayDownloadExpiredError when the URL expired: request the bill again.
   */
  async download(downloadUrl: string): Promise<Readable> {
    const url = new URL(downloadUrl);
    if (!this.origins.includes(url.origin)) {
      throw new WechatpayApiError(
        WECHATPAY_CLIENT_CODES.downloadHost,
        `download URL host ${url.origin} is not one of the configured API hosts (${this.origins.join(', ')})`,
      );
    }
    const pathWithQuery = `${url.pathname}${url.search}`;
    const { response } = await this.send(pathWithQuery, [
      url.origin,
      ...this.origins.filter((o) => o !== url.origin),
    ]);
    if (!response.ok) {
      const error = await this.errorFrom(response);
      if (error.status === 400 && error.code === WECHATPAY_API_CODES.invalidRequest) {
        throw new WechatpayDownloadExpiredError(
          error.code,
          `bill download refused (400 INVALID_REQUEST): the download URL expired or was used; request the bill again`,
          {
            status: error.status,
            providerMessage: error.providerMessage,
            signed: error.signed,
            cause: error,
          },
        );
      }
      throw error;
    }
    if (!response.body) return Readable.from([]);
    return Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
  }

  /**
   * `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=…`; unknown order: 404 ORDER_NOT_EXIST. With
   * `subMchid` (a service provider's sub-merchant order): `GET /v3/pay/partner/transactions/out-trade-no/…
   * ?sp_mchid=…&sub_mchid=…`, whose answer names sp_mchid/sp_appid and the sub-merchant.
   */
  async queryTransactionByOutTradeNo(outTradeNo: string, subMchid?: string): Promise<QueriedTransaction> {
    return this.transaction(transactionQueryPath('out-trade-no', outTradeNo, this.merchant.mchid, subMchid));
  }

  /** `GET /v3/pay/transactions/id/{transaction_id}?mchid=…`; with `subMchid` the partner query (see above). */
  async queryTransactionById(transactionId: string, subMchid?: string): Promise<QueriedTransaction> {
    return this.transaction(transactionQueryPath('id', transactionId, this.merchant.mchid, subMchid));
  }

  /**
   * `GET /v3/refund/domestic/refunds/{out_refund_no}`; a service provider names the sub-merchant
   * (`?sub_mchid=…`, same answer shape). Unknown refund: 404 RESOURCE_NOT_EXISTS.
   */
  async queryRefund(outRefundNo: string, subMchid?: string): Promise<QueriedRefund> {
    const query = subMchid === undefined ? '' : `?${new URLSearchParams({ sub_mchid: subMchid })}`;
    const body = await this.getJson(`/v3/refund/domestic/refunds/${encodeURIComponent(outRefundNo)}${query}`);
    const refund = parseWith(refundQuerySchema, body.json, 'refund query');
    return { refund, status: refundStatusFromRefundState(refund.status), rawBody: body.text };
  }

  /**
   * `GET /v3/certificates`: the platform certificates, decrypted with `apiv3Key` (tag checked) and the answer's
   * signature verified with the configured keys or a certificate of the answer itself (platform-certificates.ts).
   */
  async platformCertificates(apiv3Key: Uint8Array | string): Promise<PlatformCertificate[]> {
    const { response } = await this.send('/v3/certificates', this.origins);
    if (!response.ok) throw await this.errorFrom(response);
    const raw = Buffer.from(await response.arrayBuffer());
    const certificates = openCertificatesAnswer(raw, apiv3Key);
    this.verify(response, raw, true, keysForCertificatesAnswer(this.merchant.verificationKeys, certificates));
    return certificates;
  }

  private async transaction(path: string): Promise<QueriedTransaction> {
    const body = await this.getJson(path);
    const transaction = parseWith(transactionQuerySchema, body.json, 'transaction query');
    return { transaction, status: paymentStatusFromTradeState(transaction.trade_state), rawBody: body.text };
  }

  private async billAnswer(path: string): Promise<BillAnswer> {
    try {
      const body = await this.getJson(path);
      const parsed = parseWith(billAnswerSchema, body.json, 'bill');
      return {
        empty: false,
        hashType: parsed.hash_type,
        hashValue: parsed.hash_value,
        downloadUrl: parsed.download_url,
      };
    } catch (error) {
      const empty = emptyBill(error);
      if (empty) return empty;
      throw error;
    }
  }

  /** GET with a verified JSON answer; non-2xx answers become WechatpayApiError. */
  private async getJson(pathWithQuery: string): Promise<{ json: unknown; text: string }> {
    const { response } = await this.send(pathWithQuery, this.origins);
    if (!response.ok) throw await this.errorFrom(response);
    const raw = Buffer.from(await response.arrayBuffer());
    this.verify(response, raw, true);
    const text = raw.toString('utf8');
    try {
      return { json: JSON.parse(text), text };
    } catch (cause) {
      throw new WechatpayApiError(WECHATPAY_CLIENT_CODES.responseInvalid, 'verified answer is not JSON', {
        status: response.status,
        signed: true,
        cause,
      });
    }
  }

  /**
   * Verifies Wechatpay-* headers over the raw body. Success answers must be signed; error answers are verified
   * when they carry a signature (a forged one is rejected), and reported as unsigned otherwise.
   */
  private verify(
    response: Response,
    raw: Buffer,
    required: boolean,
    verificationKeys = this.merchant.verificationKeys,
  ): boolean {
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const lower = lowerCaseHeaders(headers);
    if (!required && lower[HEADERS.signature] === undefined) return false;
    try {
      verifyResponse({
        rawBody: raw,
        headers: lower,
        verificationKeys,
        now: this.clock.now(),
        toleranceSeconds: this.toleranceSeconds,
      });
      return true;
    } catch (cause) {
      const why = cause instanceof VerificationError ? `${cause.code}: ${cause.message}` : String(cause);
      throw new WechatpayApiError(
        WECHATPAY_CLIENT_CODES.responseUnverified,
        `WeChat Pay answer (HTTP ${response.status}) failed signature verification (${why}); it was discarded`,
        { status: response.status, cause },
      );
    }
  }

  private async errorFrom(response: Response): Promise<WechatpayApiError> {
    const raw = Buffer.from(await response.arrayBuffer());
    const signed = this.verify(response, raw, false);
    let parsed: z.infer<typeof errorBodySchema> | undefined;
    try {
      const result = errorBodySchema.safeParse(JSON.parse(raw.toString('utf8')));
      if (result.success) parsed = result.data;
    } catch {
      parsed = undefined;
    }
    if (!parsed) {
      return new WechatpayApiError(
        WECHATPAY_CLIENT_CODES.httpError,
        `WeChat Pay answered HTTP ${response.status} without a {code,message} body`,
        { status: response.status, signed },
      );
    }
    return new WechatpayApiError(
      parsed.code,
      `WeChat Pay answered HTTP ${response.status} ${parsed.code}: ${parsed.message ?? ''}`.trim(),
      { status: response.status, providerMessage: parsed.message ?? null, signed },
    );
  }

  /** Signs and sends a GET, retrying network errors, timeouts and 5xx on the next host. */
  private async send(pathWithQuery: string, origins: readonly string[]): Promise<RawAnswer> {
    let lastError: WechatpayApiError | undefined;
    for (let attempt = 0; attempt <= this.retries; attempt += 1) {
      if (attempt > 0) await this.sleep(200 * attempt);
      const origin = origins[attempt % origins.length]!;
      const authorization = buildAuthorization({
        method: 'GET',
        pathWithQuery,
        body: '',
        mchid: this.merchant.mchid,
        serialNo: this.merchant.certificateSerial,
        privateKey: this.merchant.privateKey,
        now: this.clock.now(),
      });
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), this.timeoutMs);
      try {
        const response = await this.fetchImpl(`${origin}${pathWithQuery}`, {
          method: 'GET',
          headers: { authorization, accept: 'application/json', 'user-agent': 'payhooks-wechatpay-client' },
          signal: controller.signal,
        });
        if (isRetryableStatus(response.status) && attempt < this.retries) {
          await response.body?.cancel();
          lastError = new WechatpayApiError(
            WECHATPAY_CLIENT_CODES.httpError,
            `WeChat Pay ${origin} answered HTTP ${response.status}`,
            { status: response.status },
          );
          continue;
        }
        return { response, origin };
      } catch (cause) {
        const timedOut = controller.signal.aborted;
        lastError = new WechatpayApiError(
          timedOut ? WECHATPAY_CLIENT_CODES.timeout : WECHATPAY_CLIENT_CODES.network,
          timedOut
            ? `no answer from ${origin} within ${this.timeoutMs} ms`
            : `request to ${origin} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
          { cause },
        );
      } finally {
        clearTimeout(timer);
      }
    }
    throw lastError!;
  }
}

/**
 * The order query's path: a direct merchant's (`/v3/pay/transactions/…?mchid=`) or, for a service provider's
 * sub-merchant, the partner query (`/v3/pay/partner/transactions/…?sp_mchid=&sub_mchid=`).
 */
export function transactionQueryPath(
  by: 'id' | 'out-trade-no',
  value: string,
  mchid: string,
  subMchid?: string,
): string {
  const id = encodeURIComponent(value);
  if (subMchid === undefined) return `/v3/pay/transactions/${by}/${id}?mchid=${encodeURIComponent(mchid)}`;
  const query = new URLSearchParams({ sp_mchid: mchid, sub_mchid: subMchid });
  return `/v3/pay/partner/transactions/${by}/${id}?${query}`;
}

function checkBillDate(billDate: string): string {
  if (!BILL_DATE.test(billDate) || Number.isNaN(Date.parse(`${billDate}T00:00:00Z`))) {
    throw new WechatpayApiError(
      'WECHATPAY_ARGUMENT',
      `bill date must be YYYY-MM-DD (Asia/Shanghai), got ${billDate}`,
    );
  }
  return billDate;
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  throw new WechatpayApiError(
    WECHATPAY_CLIENT_CODES.responseInvalid,
    `the ${what} answer does not have the documented shape (${fields})`,
  );
}

/**
 * The bill API answered that the bill is still being generated (`STATEMENT_CREATING`, 账单生成中; WeChat's FAQ:
 * retry every half hour until the bill or NO_STATEMENT_EXIST comes). Not an empty day and not a failure of the data.
 */
export function isBillNotReady(error: unknown): error is WechatpayApiError {
  if (!(error instanceof WechatpayApiError) || error.status === null) return false;
  return (
    error.code === WECHATPAY_API_CODES.statementCreating ||
    (error.providerMessage ?? '').includes(WECHATPAY_API_CODES.statementCreating) ||
    (error.providerMessage ?? '').includes('账单生成中')
  );
}

/**
 * A day without a bill: documented as NO_STATEMENT_EXIST (unconfirmed), so also a 404 or any answer whose message
 * names NO_STATEMENT_EXIST. Other 404s (wrong path, wrong host) stay errors: they must not read as "no activity".
 */
function emptyBill(error: unknown): { empty: true; code: string; signed: boolean } | undefined {
  if (!(error instanceof WechatpayApiError) || error.status === null) return undefined;
  const named =
    error.code === WECHATPAY_API_CODES.noStatement ||
    (error.providerMessage ?? '').includes(WECHATPAY_API_CODES.noStatement);
  if (!named) return undefined;
  return { empty: true, code: WECHATPAY_API_CODES.noStatement, signed: error.signed };
}
