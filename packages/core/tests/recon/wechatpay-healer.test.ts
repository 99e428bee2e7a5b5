// The WeChat Pay healer in service-provider (partner) mode, without servers: the query port is in memory, the
// envelopes are real AES-256-GCM under the merchant's APIv3 key and are opened by the consumer's own code. A
// sub-merchant object is asked with its sub_mchid and becomes the partner notification (sp_mchid + sub_mchid),
// whose normalisation yields the `wechatpay.*` mirror row; a direct merchant's object stays as it was.
import { describe, expect, it } from 'vitest';
import type { QueriedRefund, QueriedTransaction } from '../../src/providers/wechatpay/client.ts';
import { decryptResource, openNotification } from '../../src/providers/wechatpay/index.ts';
import { HealError } from '../../src/recon/errors.ts';
import type { HealCandidate } from '../../src/recon/run/types.ts';
import { type WechatpayQueryApi, wechatpayHealer } from '../../src/recon/wechatpay/healer.ts';
import {
  APPID,
  MCHID,
  NOW,
  refundResource,
  testMerchant,
  transactionResource,
} from '../helpers/wechatpay-fixtures.ts';

const SUB = '1900000201';
const merchant = testMerchant({ serviceProvider: true });
const clock = { now: () => NOW };

/** A partner order answer (sp_* ids and the sub-merchant), as `/v3/pay/partner/transactions/…` gives it. */
function partnerOrder(subMchid: string): QueriedTransaction {
  const { appid: _appid, mchid: _mchid, payer: _payer, ...rest } = transactionResource();
  const transaction = {
    sp_appid: APPID,
    sp_mchid: MCHID,
    sub_mchid: subMchid,
    ...rest,
    trade_state: 'REFUND',
  };
  return { transaction: transaction as never, status: 'succeeded', rawBody: JSON.stringify(transaction) };
}

/** The refund query's answer: `status`, and no merchant ids (direct or partner alike). */
function refundAnswer(): QueriedRefund {
  const { mchid: _mchid, refund_status, ...rest } = refundResource();
  const refund = { ...rest, status: refund_status, create_time: '2025-03-01T09:59:00+08:00' };
  return { refund: refund as never, status: 'succeeded', rawBody: JSON.stringify(refund) };
}

function recordingApi(order: QueriedTransaction) {
  const asked: [string, string, string | undefined][] = [];
  const api: WechatpayQueryApi = {
    async queryTransactionById(id, subMchid) {
      asked.push(['order by id', id, subMchid]);
      return order;
    },
    async queryTransactionByOutTradeNo(no, subMchid) {
      asked.push(['order by no', no, subMchid]);
      return order;
    },
    async queryRefund(no, subMchid) {
      asked.push(['refund', no, subMchid]);
      return refundAnswer();
    },
  };
  return { api, asked };
}

const candidate = (kind: 'payment' | 'refund', overrides: Partial<HealCandidate> = {}): HealCandidate => ({
  class: 'status_mismatch',
  kind,
  providerPaymentId: '4200002345202503011234567890',
  providerRefundId: kind === 'refund' ? '50000000382019052709732678859' : null,
  merchantOrderNo: 'ORDER-20250301-0001',
  merchantRefundNo: kind === 'refund' ? 'REFUND-20250301-0001' : null,
  payoutId: null,
  ...overrides,
});

const heal = { id: merchant.id, mchid: merchant.mchid, apiv3Key: merchant.apiv3Key };

describe('wechatpayHealer, service-provider sub-merchants', () => {
  it('asks an order with the candidate’s sub-merchant and yields the payment and its mirror row', async () => {
    const { api, asked } = recordingApi(partnerOrder(SUB));
    const [envelope] = await wechatpayHealer(api, heal, clock).envelopes(
      candidate('payment', { subAccount: SUB }),
    );
    expect(asked).toEqual([['order by id', '4200002345202503011234567890', SUB]]);
    const { event } = openNotification(envelope!.rawBody, merchant);
    expect(event.changes.map((c) => [c.kind, c.status])).toEqual([
      ['payment', 'succeeded'],
      ['object', 'REFUND'],
    ]);
  });

  it('looks the sub-merchant up when the candidate names none, and builds the partner refund notification', async () => {
    const { api, asked } = recordingApi(partnerOrder(SUB));
    const looked: HealCandidate[] = [];
    const healer = wechatpayHealer(api, heal, clock, {
      subMerchantOf: async (c) => {
        looked.push(c);
        return SUB;
      },
    });
    const [envelope] = await healer.envelopes(candidate('refund'));
    expect(looked).toHaveLength(1);
    expect(asked).toEqual([['refund', 'REFUND-20250301-0001', SUB]]);
    const body = JSON.parse(envelope!.rawBody) as { resource: Parameters<typeof decryptResource>[0] };
    const plaintext = JSON.parse(decryptResource(body.resource, merchant.apiv3Key).toString('utf8'));
    expect(plaintext).toMatchObject({ sp_mchid: MCHID, sub_mchid: SUB, refund_status: 'SUCCESS' });
    expect(plaintext.mchid).toBeUndefined();
    const { event } = openNotification(envelope!.rawBody, merchant);
    expect(event.changes.map((c) => [c.kind, c.status])).toEqual([
      ['refund', 'succeeded'],
      ['object', 'SUCCESS'],
    ]);
  });

  it('keeps a direct merchant’s query and notification when no sub-merchant is known', async () => {
    const { api, asked } = recordingApi(partnerOrder(SUB));
    const healer = wechatpayHealer(api, heal, clock, { subMerchantOf: async () => null });
    const [envelope] = await healer.envelopes(candidate('refund'));
    expect(asked).toEqual([['refund', 'REFUND-20250301-0001', undefined]]);
    const { event } = openNotification(envelope!.rawBody, merchant);
    expect(event.changes.map((c) => c.kind)).toEqual(['refund']);
  });

  it('refuses a partner answer that names another sub-merchant', async () => {
    const { api } = recordingApi(partnerOrder('1900000999'));
    const healing = wechatpayHealer(api, heal, clock).envelopes(candidate('payment', { subAccount: SUB }));
    await expect(healing).rejects.toBeInstanceOf(HealError);
  });
});
