// Healing for WeChat Pay: a break's payment or refund is queried from WeChat Pay and the answer is re-encrypted with
// the merchant's APIv3 key into a notification-shaped envelope, so the inbox never holds payer data in plaintext and
// decryption and normalisation run the same code as for callbacks (the loop itself: run/heal-breaks.ts).
// A service provider's sub-merchant object is asked through the partner queries (sp_mchid + sub_mchid), so the
// envelope is the partner notification the consumer would have got and also carries the `wechatpay.*` mirror row.
import { createHash } from 'node:crypto';
import { ENVELOPE_VERSION, type Envelope } from '../../envelope.ts';
import type { Sql } from '../../ledger/db.ts';
import type { Clock } from '../../ports.ts';
import type { QueriedRefund, QueriedTransaction } from '../../providers/wechatpay/client.ts';
import { encryptResource } from '../../providers/wechatpay/decrypt.ts';
import { HealError } from '../errors.ts';
import type { HealCandidate, Healer } from '../run/types.ts';

/** The part of the WeChat Pay client healing needs (WechatpayClient satisfies it). */
export interface WechatpayQueryApi {
  /** With `subMchid`: the partner query of a service provider's sub-merchant order. */
  queryTransactionById(transactionId: string, subMchid?: string): Promise<QueriedTransaction>;
  queryTransactionByOutTradeNo(outTradeNo: string, subMchid?: string): Promise<QueriedTransaction>;
  queryRefund(outRefundNo: string, subMchid?: string): Promise<QueriedRefund>;
}

export interface WechatpayHealMerchant {
  /** Configuration id: the envelope's account, as ingress sets it. */
  id: string;
  mchid: string;
  apiv3Key: Uint8Array;
}

export interface WechatpayHealerOptions {
  /**
   * The sub-merchant (特约商户号) of a candidate that does not name one (HealCandidate.subAccount), e.g. from the
   * mirror (subMerchantFromMirror); null or undefined: a direct merchant's object.
   */
  subMerchantOf?(candidate: HealCandidate): Promise<string | null | undefined>;
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
  options: WechatpayHealerOptions = {},
): Healer {
  return {
    async envelopes(candidate) {
      const now = clock.now();
      const sub = candidate.subAccount ?? (await options.subMerchantOf?.(candidate)) ?? undefined;
      if (candidate.kind === 'payment') {
        const answer = candidate.providerPaymentId
          ? await api.queryTransactionById(candidate.providerPaymentId, sub)
          : candidate.merchantOrderNo
            ? await api.queryTransactionByOutTradeNo(candidate.merchantOrderNo, sub)
            : undefined;
        if (!answer) throw new HealError('payment break has neither transaction_id nor out_trade_no');
        if (sub !== undefined && answer.transaction.sub_mchid !== sub) {
          throw new HealError(
            `the partner order query for sub-merchant ${sub} answered sub_mchid ${answer.transaction.sub_mchid ?? '(none)'}`,
          );
        }
        const resource = JSON.parse(answer.rawBody) as Record<string, unknown>;
        const amount = (resource.amount ?? {}) as Record<string, unknown>;
        // The query may omit amount.currency (payer_currency only); notifications always carry it.
        resource.amount = { ...amount, currency: amount.currency ?? 'CNY' };
        // The partner answer names sp_mchid/sp_appid and the sub-merchant, as the partner notification does.
        if (resource.mchid === undefined && resource.sp_mchid === undefined) resource.mchid = merchant.mchid;
        const state = answer.transaction.trade_state;
        const eventType =
          state === 'SUCCESS' || state === 'REFUND' ? 'TRANSACTION.SUCCESS' : `TRANSACTION.${state}`;
        const createTime = answer.transaction.success_time ?? beijingTime(now);
        return [notificationEnvelope(merchant, resource, 'transaction', eventType, createTime, now)];
      }
      if (candidate.kind === 'refund') {
        if (!candidate.merchantRefundNo) throw new HealError('refund break has no out_refund_no to query');
        const answer = await api.queryRefund(candidate.merchantRefundNo, sub);
        const queried = JSON.parse(answer.rawBody) as Record<string, unknown>;
        const { status, ...rest } = queried;
        // Notifications name the state refund_status and carry the merchant ids (a service provider's: sp_mchid
        // and sub_mchid); the query answer names it status and carries neither.
        const ids =
          sub === undefined ? { mchid: merchant.mchid } : { sp_mchid: merchant.mchid, sub_mchid: sub };
        const resource = { ...ids, ...rest, refund_status: status };
        const createTime = answer.refund.success_time ?? answer.refund.create_time ?? beijingTime(now);
        return [
          notificationEnvelope(merchant, resource, 'refund', `REFUND.${String(status)}`, createTime, now),
        ];
      }
      throw new HealError(`WeChat Pay ${candidate.kind} lines are not healed`);
    },
  };
}

/**
 * The sub-merchant of a service provider's object as the `wechatpay.*` mirror recorded it from the partner
 * notifications (a refund's own row, else its order's). Null for a direct merchant's object and for one the
 * mirror never saw: then there is no sub_mchid to ask the partner queries with.
 */
export function subMerchantFromMirror(sql: Sql, mchid: string) {
  return async (candidate: HealCandidate): Promise<string | null> => {
    const paymentId = candidate.providerPaymentId ?? '';
    const orderNo = candidate.merchantOrderNo ?? '';
    const refundId = candidate.kind === 'refund' ? (candidate.providerRefundId ?? '') : '';
    const [row] = await sql<{ sub_mchid: string }[]>`
      select sub_mchid from (
        select 1 as pick, sub_mchid from wechatpay.refunds where id = ${refundId} and account = ${mchid}
        union all
        select 2, sub_mchid from wechatpay.transactions
          where account = ${mchid} and (id = ${paymentId} or out_trade_no = ${orderNo})
      ) known where sub_mchid is not null order by pick limit 1`;
    return row?.sub_mchid ?? null;
  };
}
