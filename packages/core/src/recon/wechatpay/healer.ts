// Healing for WeChat Pay: a break's payment or refund is queried from WeChat Pay and the answer is re-encrypted with
// the merchant's APIv3 key into a notification-shaped envelope, so the inbox never holds payer data in plaintext and
// decryption and normalisation run the same code as for callbacks (the loop itself: run/heal-breaks.ts).
import { createHash } from 'node:crypto';
import { ENVELOPE_VERSION, type Envelope } from '../../envelope.ts';
import type { Clock } from '../../ports.ts';
import type { QueriedRefund, QueriedTransaction } from '../../providers/wechatpay/client.ts';
import { encryptResource } from '../../providers/wechatpay/decrypt.ts';
import { HealError } from '../errors.ts';
import type { Healer } from '../run/types.ts';

/** The part of the WeChat Pay client healing needs (WechatpayClient satisfies it). */
export interface WechatpayQueryApi {
  queryTransactionById(transactionId: string): Promise<QueriedTransaction>;
  queryTransactionByOutTradeNo(outTradeNo: string): Promise<QueriedTransaction>;
  queryRefund(outRefundNo: string): Promise<QueriedRefund>;
}

export interface WechatpayHealMerchant {
  /** Configuration id: the envelope's account, as ingress sets it. */
  id: string;
  mchid: string;
  apiv3Key: Uint8Array;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

function notificationEnvelope(
  merchant: WechatpayHealMerchant,
  resource: Record<string, unknown>,
  originalType: 'transaction' | 'refund',
  eventType: string,
  createTime: string,
  now: Date,
): Envelope {
  const plaintext = JSON.stringify(resource);
  // Same snapshot → same id: healing twice is a duplicate at the inbox, not a second application.
  const id = `HEAL-${sha(`${merchant.mchid}:${plaintext}`)}`;
  const body = JSON.stringify({
    id,
    create_time: createTime,
    resource_type: 'encrypt-resource',
    event_type: eventType,
    summary: 'payhooks reconciliation heal (queried from WeChat Pay)',
    resource: {
      original_type: originalType,
      ...encryptResource(plaintext, merchant.apiv3Key, { associatedData: originalType }),
    },
  });
  return {
    v: ENVELOPE_VERSION,
    provider: 'wechatpay',
    eventId: id,
    eventType,
    account: merchant.id,
    occurredAt: new Date(createTime).toISOString(),
    receivedAt: now.toISOString(),
    rawBody: body,
  };
}

/** RFC 3339 in Beijing time, the shape of WeChat's create_time. */
function beijingTime(date: Date): string {
  return `${new Date(date.getTime() + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`;
}

export function wechatpayHealer(
  api: WechatpayQueryApi,
  merchant: WechatpayHealMerchant,
  clock: Clock,
): Healer {
  return {
    async envelopes(candidate) {
      const now = clock.now();
      if (candidate.kind === 'payment') {
        const answer = candidate.providerPaymentId
          ? await api.queryTransactionById(candidate.providerPaymentId)
          : candidate.merchantOrderNo
            ? await api.queryTransactionByOutTradeNo(candidate.merchantOrderNo)
            : undefined;
        if (!answer) throw new HealError('payment break has neither transaction_id nor out_trade_no');
        const resource = JSON.parse(answer.rawBody) as Record<string, unknown>;
        const amount = (resource.amount ?? {}) as Record<string, unknown>;
        // The query may omit amount.currency (payer_currency only); notifications always carry it.
        resource.amount = { ...amount, currency: amount.currency ?? 'CNY' };
        if (resource.mchid === undefined && resource.sp_mchid === undefined) resource.mchid = merchant.mchid;
        const state = answer.transaction.trade_state;
        const eventType =
          state === 'SUCCESS' || state === 'REFUND' ? 'TRANSACTION.SUCCESS' : `TRANSACTION.${state}`;
        const createTime = answer.transaction.success_time ?? beijingTime(now);
        return [notificationEnvelope(merchant, resource, 'transaction', eventType, createTime, now)];
      }
      if (candidate.kind === 'refund') {
        if (!candidate.merchantRefundNo) throw new HealError('refund break has no out_refund_no to query');
        const answer = await api.queryRefund(candidate.merchantRefundNo);
        const queried = JSON.parse(answer.rawBody) as Record<string, unknown>;
        const { status, ...rest } = queried;
        // Notifications name the state refund_status and carry mchid; the query answer names it status.
        const resource = { mchid: merchant.mchid, ...rest, refund_status: status };
        const createTime = answer.refund.success_time ?? answer.refund.create_time ?? beijingTime(now);
        return [
          notificationEnvelope(merchant, resource, 'refund', `REFUND.${String(status)}`, createTime, now),
        ];
      }
      throw new HealError(`WeChat Pay ${candidate.kind} lines are not healed`);
    },
  };
}
