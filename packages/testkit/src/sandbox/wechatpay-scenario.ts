// Builds WeChat Pay APIv3 notification histories (payments, refunds with ABNORMAL → SUCCESS/CLOSED, a payment
// notified twice under two notify ids, combined payments, service-provider payments and refunds, profit sharing
// — also arriving as TRANSACTION.SUCCESS — and its return, an unknown event type)
// together with the final ledger state and the merchant orders the merchant's own system would have written.
// Plaintext resources only: wechatpay-sender.ts encrypts and signs them. Deterministic per seed.
import { SandboxError } from '../errors.ts';
import { prng } from './stripe-scenario.ts';

export interface WechatpayNotificationSpec {
  /** Notify id (`id` of the outer body): the inbox key. */
  id: string;
  /** The configured merchant (`id` in the merchants document) the notification belongs to. */
  merchantId: string;
  eventType: string;
  originalType: string;
  summary: string;
  /** RFC 3339, +08:00. */
  createTime: string;
  /** The decrypted resource. */
  resource: Record<string, unknown>;
}

export interface WechatpayExpectedPayment {
  status: string;
  amountMinor: bigint;
  currency: string;
  merchantOrderNo: string;
  mchid: string;
}

export interface WechatpayExpectedRefund {
  status: string;
  amountMinor: bigint;
  paymentId: string;
}

export interface WechatpayExpectedProfitSharing {
  /** `SUCCESS` (a share) or `RETURN` (money back from the receiver). */
  status: 'SUCCESS' | 'RETURN';
  amountMinor: bigint;
  transactionId: string;
  receiverAccount: string;
}

export interface WechatpayExpected {
  /** transaction_id → final payment. */
  payments: Map<string, WechatpayExpectedPayment>;
  /** refund_id → final refund. */
  refunds: Map<string, WechatpayExpectedRefund>;
  /** `order_id/receiver account` (the wechatpay.profit_sharing id) → movement. */
  profitSharing: Map<string, WechatpayExpectedProfitSharing>;
  /** transaction_id → sub_mchid, for service-provider and combined sub-orders mirrored in wechatpay.transactions. */
  subMerchants: Map<string, string | null>;
  /** Notify ids that are kept as evidence only (outcome 'stored'). */
  stored: Set<string>;
  /** transaction_id → anomaly kinds against merchant_orders. */
  anomalies: Map<string, string[]>;
}

export interface MerchantOrder {
  merchantOrderNo: string;
  amountMinor: bigint;
  currency: string;
}

export interface WechatpayScenario {
  notifications: WechatpayNotificationSpec[];
  expected: WechatpayExpected;
  /** Rows for `merchant_orders` (provider 'wechatpay'), as the merchant's order system would insert them. */
  merchantOrders: MerchantOrder[];
}

export interface ScenarioMerchant {
  id: string;
  mchid: string;
  appid: string;
}

/** Unix seconds → `2025-03-01T09:15:03+08:00` (WeChat Pay's Beijing-time RFC 3339). */
export function beijingTime(unixSeconds: number): string {
  return `${new Date((unixSeconds + 8 * 3600) * 1000).toISOString().slice(0, 19)}+08:00`;
}

function digits(random: () => number, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += Math.floor(random() * 10);
  return out;
}

/** How a refund ends, as the sequence of notified refund_status values. ABNORMAL is not final. */
export const REFUND_PATHS = [
  ['SUCCESS'],
  ['CLOSED'],
  ['ABNORMAL'],
  ['ABNORMAL', 'SUCCESS'],
  ['ABNORMAL', 'CLOSED'],
  ['ABNORMAL', 'ABNORMAL', 'SUCCESS'],
] as const;

const REFUND_EVENT = {
  SUCCESS: 'REFUND.SUCCESS',
  CLOSED: 'REFUND.CLOSED',
  ABNORMAL: 'REFUND.ABNORMAL',
} as const;
const REFUND_SUMMARY = { SUCCESS: '退款成功', CLOSED: '退款关闭', ABNORMAL: '退款异常' } as const;
const REFUND_LEDGER_STATUS = { SUCCESS: 'succeeded', CLOSED: 'canceled', ABNORMAL: 'abnormal' } as const;

export interface PaymentPlan {
  amountMinor: number;
  currency?: string;
  /** Also notified under a second notify id (WeChat resends after a lost answer, or two ids for one payment). */
  resend?: boolean;
  /** Index into REFUND_PATHS, or undefined for no refund. */
  refundPath?: number;
  /** Seconds between consecutive notifications of this payment (cycled). */
  gaps?: readonly number[];
  /** Service-provider mode: the merchant is the service provider (sp_mchid), this the sub-merchant. */
  subMchid?: string;
}

/** Accumulates notifications and the state they must produce. */
export class WechatpayHistory {
  readonly notifications: WechatpayNotificationSpec[] = [];
  readonly expected: WechatpayExpected = {
    payments: new Map(),
    refunds: new Map(),
    profitSharing: new Map(),
    subMerchants: new Map(),
    stored: new Set(),
    anomalies: new Map(),
  };
  readonly merchantOrders: MerchantOrder[] = [];
  constructor(private readonly random: () => number) {}

  notifyId(): string {
    // WeChat's notify ids look like UUIDs.
    let hex = '';
    for (let i = 0; i < 32; i++) hex += '0123456789abcdef'[Math.floor(this.random() * 16)];
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  emit(spec: Omit<WechatpayNotificationSpec, 'id'>, id = this.notifyId()): WechatpayNotificationSpec {
    const notification = { id, ...spec, resource: structuredClone(spec.resource) };
    this.notifications.push(notification);
    return notification;
  }

  /** One paid order, optionally notified twice and refunded along one of REFUND_PATHS. */
  payment(merchant: ScenarioMerchant, orderNo: string, start: number, plan: PaymentPlan): string {
    const gaps = plan.gaps?.length ? plan.gaps : [1];
    let t = start;
    let step = 0;
    const next = () => {
      t += gaps[step++ % gaps.length]!;
      return t;
    };
    const transactionId = `42000${digits(this.random, 23)}`;
    const currency = plan.currency ?? 'CNY';
    const paidAt = next();
    const transaction = {
      ...this.merchantIds(merchant, plan.subMchid),
      out_trade_no: orderNo,
      transaction_id: transactionId,
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      bank_type: 'CMC',
      attach: '',
      success_time: beijingTime(paidAt),
      payer: { openid: `oUpF8uMuAJO_M2pxb1Q9zN${digits(this.random, 6)}` },
      amount: { total: plan.amountMinor, payer_total: plan.amountMinor, currency, payer_currency: currency },
    };
    const paid = {
      merchantId: merchant.id,
      eventType: 'TRANSACTION.SUCCESS',
      originalType: 'transaction',
      summary: '支付成功',
      createTime: beijingTime(paidAt),
      resource: transaction,
    };
    this.emit(paid);
    if (plan.resend) this.emit({ ...paid, createTime: beijingTime(next()) });
    this.expected.payments.set(transactionId, {
      status: 'succeeded',
      amountMinor: BigInt(plan.amountMinor),
      currency,
      merchantOrderNo: orderNo,
      mchid: merchant.mchid,
    });
    if (plan.subMchid) this.expected.subMerchants.set(transactionId, plan.subMchid);

    const path =
      plan.refundPath === undefined ? undefined : REFUND_PATHS[plan.refundPath % REFUND_PATHS.length]!;
    if (path) {
      const refundId = `50${digits(this.random, 27)}`;
      const refundAmount = Math.max(1, Math.floor(plan.amountMinor / (path.length === 1 ? 1 : 2)));
      for (const status of path) {
        const at = next();
        this.emit({
          merchantId: merchant.id,
          eventType: REFUND_EVENT[status],
          originalType: 'refund',
          summary: REFUND_SUMMARY[status],
          createTime: beijingTime(at),
          resource: {
            ...this.merchantIds(merchant, plan.subMchid, false),
            transaction_id: transactionId,
            out_trade_no: orderNo,
            refund_id: refundId,
            out_refund_no: `${orderNo}-R1`,
            refund_status: status,
            ...(status === 'SUCCESS' ? { success_time: beijingTime(at) } : {}),
            user_received_account: '招商银行信用卡0403',
            amount: {
              total: plan.amountMinor,
              refund: refundAmount,
              payer_total: plan.amountMinor,
              payer_refund: refundAmount,
            },
          },
        });
      }
      this.expected.refunds.set(refundId, {
        status: REFUND_LEDGER_STATUS[path[path.length - 1]!],
        amountMinor: BigInt(refundAmount),
        paymentId: transactionId,
      });
    }
    return transactionId;
  }

  /** Direct merchants are named by mchid/appid; a service provider by sp_mchid/sp_appid plus the sub-merchant. */
  private merchantIds(merchant: ScenarioMerchant, subMchid: string | undefined, withApp = true) {
    if (!subMchid)
      return withApp ? { appid: merchant.appid, mchid: merchant.mchid } : { mchid: merchant.mchid };
    return withApp
      ? { sp_appid: merchant.appid, sp_mchid: merchant.mchid, sub_mchid: subMchid }
      : { sp_mchid: merchant.mchid, sub_mchid: subMchid };
  }

  /**
   * A combined payment (合单支付) of `amounts.length` sub-orders, all booked to `merchant`, notified once as
   * TRANSACTION.SUCCESS (optionally twice). Returns the sub-orders' transaction ids.
   */
  combinedPayment(
    merchant: ScenarioMerchant,
    combinedOrderNo: string,
    at: number,
    amounts: readonly number[],
    resend = false,
  ): string[] {
    const subOrders = amounts.map((amount, i) => ({
      mchid: merchant.mchid,
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      bank_type: 'CMC',
      attach: '',
      success_time: beijingTime(at),
      transaction_id: `42000${digits(this.random, 23)}`,
      out_trade_no: `${combinedOrderNo}-${i + 1}`,
      amount: { total_amount: amount, payer_amount: amount, currency: 'CNY', payer_currency: 'CNY' },
    }));
    const paid = {
      merchantId: merchant.id,
      eventType: 'TRANSACTION.SUCCESS',
      originalType: 'transaction',
      summary: '支付成功',
      createTime: beijingTime(at),
      resource: {
        combine_appid: merchant.appid,
        combine_mchid: merchant.mchid,
        combine_out_trade_no: combinedOrderNo,
        scene_info: { device_id: 'POS1:1' },
        sub_orders: subOrders,
        combine_payer_info: { openid: `oUpF8uMuAJO_M2pxb1Q9zN${digits(this.random, 6)}` },
      },
    };
    this.emit(paid);
    if (resend) this.emit({ ...paid, createTime: beijingTime(at + 1) });
    for (const order of subOrders) {
      this.expected.payments.set(order.transaction_id, {
        status: 'succeeded',
        amountMinor: BigInt(order.amount.total_amount),
        currency: 'CNY',
        merchantOrderNo: order.out_trade_no,
        mchid: merchant.mchid,
      });
      this.expected.subMerchants.set(order.transaction_id, null);
    }
    return subOrders.map((order) => order.transaction_id);
  }

  /**
   * A profit-sharing movement of `amountMinor` from the payment `transactionId` to a receiver. `as` decides the
   * envelope: PROFITSHARING.SUCCESS / .RETURN with original_type profitsharing, or — as reported in practice —
   * TRANSACTION.SUCCESS with original_type transaction. Returns the movement's mirror id.
   */
  profitSharing(
    merchant: ScenarioMerchant,
    transactionId: string,
    at: number,
    options: { as?: 'transaction' | 'success' | 'return'; amountMinor?: number; orderId?: string } = {},
  ): string {
    const as = options.as ?? 'transaction';
    const amount = options.amountMinor ?? 88;
    const orderId = options.orderId ?? `30084507${digits(this.random, 20)}`;
    const receiver = '1900000111';
    const returned = as === 'return';
    this.emit({
      merchantId: merchant.id,
      eventType:
        as === 'transaction'
          ? 'TRANSACTION.SUCCESS'
          : returned
            ? 'PROFITSHARING.RETURN'
            : 'PROFITSHARING.SUCCESS',
      originalType: as === 'transaction' ? 'transaction' : 'profitsharing',
      summary: returned ? '分账回退' : '分账成功',
      createTime: beijingTime(at),
      resource: {
        mchid: merchant.mchid,
        transaction_id: transactionId,
        order_id: orderId,
        out_order_no: `${returned ? 'PR' : 'PS'}-${orderId.slice(-8)}`,
        receiver: {
          type: 'MERCHANT_ID',
          account: receiver,
          amount,
          description: returned ? '回退给分账方' : `分给商户${receiver}`,
        },
        success_time: beijingTime(at),
      },
    });
    const id = `${orderId}/${receiver}`;
    this.expected.profitSharing.set(id, {
      status: returned ? 'RETURN' : 'SUCCESS',
      amountMinor: BigInt(amount),
      transactionId,
      receiverAccount: receiver,
    });
    return id;
  }

  /** An event type nobody mapped: kept in the inbox as evidence. */
  unknownType(merchant: ScenarioMerchant, at: number): void {
    const n = this.emit({
      merchantId: merchant.id,
      eventType: 'MARKETING.FAVOR.USED',
      originalType: 'coupon',
      summary: '代金券核销',
      createTime: beijingTime(at),
      resource: { stock_id: '9856888', coupon_id: `98674556${digits(this.random, 4)}`, status: 'USED' },
    });
    this.expected.stored.add(n.id);
  }
}

export interface WechatpayScenarioOptions {
  seed: number;
  payments: number;
  merchants: readonly ScenarioMerchant[];
  startTime?: number;
}

/**
 * `payments` paid orders spread over the merchants; some notified twice, some refunded. Every order has a
 * merchant_orders row; one of them expects a different amount, so exactly one amount anomaly is predicted.
 */
export function buildWechatpayScenario(options: WechatpayScenarioOptions): WechatpayScenario {
  const random = prng(options.seed ^ 0x9e3779b9);
  const h = new WechatpayHistory(random);
  const start = options.startTime ?? Math.floor(Date.now() / 1000) - 3600;
  const merchants = options.merchants;
  if (merchants.length === 0)
    throw new SandboxError('SANDBOX_NO_MERCHANTS', 'a WeChat Pay scenario needs at least one merchant');
  let firstPayment: string | undefined;
  for (let i = 0; i < options.payments; i++) {
    const merchant = merchants[i % merchants.length]!;
    const orderNo = `WX-${options.seed}-${i}`;
    const amount = 1 + Math.floor(random() * 99_999);
    const roll = random();
    const refundPath = roll > 0.55 ? Math.floor(random() * REFUND_PATHS.length) : undefined;
    const transactionId = h.payment(merchant, orderNo, start + i * 7, {
      amountMinor: amount,
      resend: random() < 0.15,
      refundPath,
      gaps: [1, 3, 2],
    });
    firstPayment ??= transactionId;
    // The merchant's order system expects 1.00 CNY more for the second order: one anomaly.
    const expectedAmount = i === 1 ? amount + 100 : amount;
    h.merchantOrders.push({ merchantOrderNo: orderNo, amountMinor: BigInt(expectedAmount), currency: 'CNY' });
    if (i === 1) h.expected.anomalies.set(transactionId, ['amount_mismatch']);
  }
  const tail = start + options.payments * 7;
  // A service-provider payment (sp_mchid = the configured merchant) refunded in full, and a combined payment.
  const spPayment = h.payment(merchants[0]!, `WX-${options.seed}-SP`, tail, {
    amountMinor: 4200,
    refundPath: 0,
    subMchid: '1900000109',
  });
  const subOrders = h.combinedPayment(
    merchants[merchants.length - 1]!,
    `WX-${options.seed}-COMBINED`,
    tail + 5,
    [1500, 2600],
  );
  for (const id of [spPayment, ...subOrders]) {
    const { merchantOrderNo, amountMinor, currency } = h.expected.payments.get(id)!;
    h.merchantOrders.push({ merchantOrderNo, amountMinor, currency });
  }
  // Profit sharing in both envelopes, and a return of part of a share.
  if (firstPayment) {
    h.profitSharing(merchants[0]!, firstPayment, start + 30);
    h.profitSharing(merchants[0]!, spPayment, tail + 10, { as: 'success', amountMinor: 300 });
    h.profitSharing(merchants[0]!, spPayment, tail + 20, { as: 'return', amountMinor: 100 });
  }
  h.unknownType(merchants[merchants.length - 1]!, start + 40);
  return { notifications: h.notifications, expected: h.expected, merchantOrders: h.merchantOrders };
}
