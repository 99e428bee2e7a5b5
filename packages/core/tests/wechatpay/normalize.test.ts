// Normalisation of decrypted notifications into ledger changes, routed on original_type and content, and
// the consumer pipeline openNotification (parse → decrypt → normalize) end to end on encrypted bodies.
import { describe, expect, it } from 'vitest';
import { DecryptError, NormalizeError } from '../../src/errors.ts';
import type { PaymentChange, RefundChange } from '../../src/ledger/changes.ts';
import { encryptResource } from '../../src/providers/wechatpay/encrypt.ts';
import {
  contentKind,
  normalizeNotification,
  paymentStatusFromTradeState,
} from '../../src/providers/wechatpay/normalize.ts';
import { type Notification, notificationSchema } from '../../src/providers/wechatpay/notification.ts';
import { openNotification } from '../../src/providers/wechatpay/open-notification.ts';
import {
  APIV3_KEY,
  APPID,
  combinedResource,
  MCHID,
  type NotificationOptions,
  notificationBody,
  profitSharingResource,
  refundResource,
  testMerchant,
  transactionResource,
} from '../helpers/wechatpay-fixtures.ts';

const merchant = testMerchant();

function outer(options: NotificationOptions & { resource?: unknown } = {}): Notification {
  return notificationSchema.parse(
    JSON.parse(notificationBody(options.resource ?? {}, options).toString('utf8')),
  );
}

function normalizeError(fn: () => unknown): NormalizeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(NormalizeError);
    return error as NormalizeError;
  }
  throw new Error('expected a NormalizeError');
}

describe('normalizeNotification — payments', () => {
  it('turns TRANSACTION.SUCCESS into a succeeded PaymentChange', () => {
    const notification = outer({ id: 'EV-pay-1' });

    const event = normalizeNotification(notification, transactionResource(), merchant);

    expect(event).toEqual({
      provider: 'wechatpay',
      eventId: 'EV-pay-1',
      eventType: 'TRANSACTION.SUCCESS',
      account: MCHID,
      occurredAt: new Date('2025-03-01T01:15:03Z'),
      apiVersion: null,
      changes: [
        {
          kind: 'payment',
          provider: 'wechatpay',
          account: MCHID,
          providerPaymentId: '4200002345202503011234567890',
          merchantOrderNo: 'ORDER-20250301-0001',
          amountMinor: 12345n,
          currency: 'CNY',
          status: 'succeeded',
          asOf: new Date('2025-03-01T01:15:01Z'),
        } satisfies PaymentChange,
      ],
    });
  });

  it.each([
    ['SUCCESS', 'succeeded'],
    ['REFUND', 'succeeded'],
    ['NOTPAY', 'pending'],
    ['CLOSED', 'canceled'],
    ['REVOKED', 'canceled'],
    ['USERPAYING', 'processing'],
    ['PAYERROR', 'failed'],
  ] as const)(
    'maps trade_state %s to %s; asOf falls back to create_time without success_time',
    (state, status) => {
      const resource = transactionResource({ trade_state: state, success_time: undefined });

      const [change] = normalizeNotification(outer(), resource, merchant).changes as PaymentChange[];

      expect(paymentStatusFromTradeState(state)).toBe(status);
      expect(change?.status).toBe(status);
      expect(change?.asOf).toEqual(new Date('2025-03-01T01:15:03Z'));
    },
  );

  it('upper-cases the currency and keeps large amounts exact', () => {
    const resource = transactionResource({ amount: { total: Number.MAX_SAFE_INTEGER, currency: 'cny' } });
    const [change] = normalizeNotification(outer(), resource, merchant).changes as PaymentChange[];
    expect(change).toMatchObject({ amountMinor: 9007199254740991n, currency: 'CNY' });
  });

  it('routes on original_type, not event_type: a transaction under another event type is still a payment', () => {
    const event = normalizeNotification(
      outer({ eventType: 'TRANSACTION.FAIL' }),
      transactionResource({ trade_state: 'PAYERROR' }),
      merchant,
    );
    expect(event.changes).toMatchObject([{ kind: 'payment', status: 'failed' }]);
  });

  it.each([
    ['no amount', { amount: undefined }],
    ['fractional fen', { amount: { total: 1.5, currency: 'CNY' } }],
    ['amount as a string', { amount: { total: '100', currency: 'CNY' } }],
    ['unsafe integer', { amount: { total: 2 ** 53, currency: 'CNY' } }],
    ['negative amount', { amount: { total: -1, currency: 'CNY' } }],
    ['no currency', { amount: { total: 100 } }],
    ['unknown trade_state', { trade_state: 'PAID' }],
    ['no transaction_id', { transaction_id: undefined }],
    ['success_time without offset', { success_time: '2025-03-01 09:15:01' }],
  ])('fails loudly on a transaction with %s (never writes NULLs)', (_name, overrides) => {
    const error = normalizeError(() =>
      normalizeNotification(outer(), transactionResource(overrides), merchant),
    );
    expect(error.code).toBe('WECHATPAY_RESOURCE_INVALID');
    expect(error.message).toContain('EV-2018022511223320873');
  });

  it('fails loudly when original_type says transaction but the content is not one', () => {
    for (const content of [refundResource(), { mchid: MCHID }, 'text', null, [transactionResource()]]) {
      expect(normalizeError(() => normalizeNotification(outer(), content, merchant)).code).toBe(
        'WECHATPAY_RESOURCE_INVALID',
      );
    }
  });
});

describe('normalizeNotification — refunds', () => {
  const refundOuter = (eventType: string) =>
    outer({ originalType: 'refund', eventType, summary: '退款成功' });

  it('turns REFUND.SUCCESS into a succeeded RefundChange in CNY (the notification has no currency)', () => {
    const event = normalizeNotification(refundOuter('REFUND.SUCCESS'), refundResource(), merchant);

    expect(event.changes).toEqual([
      {
        kind: 'refund',
        provider: 'wechatpay',
        account: MCHID,
        providerRefundId: '50000000382019052709732678859',
        providerPaymentId: '4200002345202503011234567890',
        merchantRefundNo: 'REFUND-20250301-0001',
        merchantOrderNo: 'ORDER-20250301-0001',
        amountMinor: 2345n,
        currency: 'CNY',
        status: 'succeeded',
        asOf: new Date('2025-03-01T02:00:00Z'),
      } satisfies RefundChange,
    ]);
  });

  it.each([
    ['REFUND.ABNORMAL', 'ABNORMAL', 'abnormal'],
    ['REFUND.CLOSED', 'CLOSED', 'canceled'],
    ['REFUND.PROCESSING', 'PROCESSING', 'pending'],
  ])('maps %s to %s (asOf = create_time without success_time)', (eventType, state, status) => {
    const resource = refundResource({ refund_status: state, success_time: undefined });

    const [change] = normalizeNotification(refundOuter(eventType), resource, merchant)
      .changes as RefundChange[];

    expect(change).toMatchObject({ kind: 'refund', status, asOf: new Date('2025-03-01T01:15:03Z') });
  });

  it('uses the currency when the resource carries one', () => {
    const resource = refundResource({ amount: { total: 100, refund: 50, currency: 'usd' } });
    const [change] = normalizeNotification(refundOuter('REFUND.SUCCESS'), resource, merchant)
      .changes as RefundChange[];
    expect(change?.currency).toBe('USD');
  });

  it('fails loudly on a malformed refund', () => {
    for (const overrides of [
      { refund_id: undefined },
      { refund_status: 'DONE' },
      { amount: { total: 100 } },
    ]) {
      const error = normalizeError(() =>
        normalizeNotification(refundOuter('REFUND.SUCCESS'), refundResource(overrides), merchant),
      );
      expect(error.code).toBe('WECHATPAY_RESOURCE_INVALID');
    }
  });
});

describe('normalizeNotification — combined payments', () => {
  it('books one payment per sub-order, each to its own mchid, and mirrors the sub-orders with the combined order', () => {
    const event = normalizeNotification(outer({ id: 'EV-combined' }), combinedResource(), merchant);
    expect(contentKind(combinedResource())).toBe('combined');
    const payments = event.changes.filter((c) => c.kind === 'payment');
    expect(payments).toEqual([
      expect.objectContaining({
        account: MCHID,
        providerPaymentId: '4200002345202503011234567891',
        merchantOrderNo: 'ORDER-20250301-C1',
        amountMinor: 1000n,
        status: 'succeeded',
        asOf: new Date('2025-03-01T01:15:01.120Z'),
      }),
      expect.objectContaining({
        account: '1900000222',
        amountMinor: 2500n,
        merchantOrderNo: 'ORDER-20250301-C2',
      }),
    ]);
    const mirrors = event.changes.filter((c) => c.kind === 'object');
    expect(mirrors).toMatchObject([
      { objectType: 'transaction', objectId: '4200002345202503011234567891', status: 'SUCCESS' },
      {
        objectType: 'transaction',
        snapshot: { combine_out_trade_no: 'COMBINE-20250301-0001', sub_mchid: '1900000333' },
      },
    ]);
    expect(JSON.stringify(mirrors)).not.toContain('openid');
  });

  it('maps each sub-order state on its own', () => {
    const resource = combinedResource();
    (resource.sub_orders as Record<string, unknown>[])[1]!.trade_state = 'CLOSED';
    const statuses = normalizeNotification(outer(), resource, merchant)
      .changes.filter((c) => c.kind === 'payment')
      .map((c) => c.status);
    expect(statuses).toEqual(['succeeded', 'canceled']);
  });

  it('rejects a combined payment started by another merchant or app', () => {
    for (const overrides of [{ combine_mchid: '1900000999' }, { combine_appid: 'wx0000000000000000' }]) {
      const error = normalizeError(() =>
        normalizeNotification(outer(), combinedResource(overrides), merchant),
      );
      expect(error.code).toBe('WECHATPAY_MERCHANT_MISMATCH');
    }
  });

  it('fails loudly on a sub-order without its amount', () => {
    const resource = combinedResource();
    delete (resource.sub_orders as Record<string, unknown>[])[0]!.amount;
    expect(normalizeError(() => normalizeNotification(outer(), resource, merchant)).code).toBe(
      'WECHATPAY_RESOURCE_INVALID',
    );
  });
});

describe('normalizeNotification — service-provider refunds', () => {
  it('projects every refund status of a sub-merchant refund and mirrors its sub_mchid', () => {
    const spRefund = (status: string) =>
      refundResource({ mchid: undefined, sp_mchid: MCHID, sub_mchid: '1900000110', refund_status: status });
    const expected = {
      SUCCESS: 'succeeded',
      CLOSED: 'canceled',
      ABNORMAL: 'abnormal',
      PROCESSING: 'pending',
    };
    for (const [raw, status] of Object.entries(expected)) {
      const changes = normalizeNotification(
        outer({ originalType: 'refund' }),
        spRefund(raw),
        merchant,
      ).changes;
      expect(changes).toMatchObject([
        { kind: 'refund', status, account: MCHID },
        { kind: 'object', objectType: 'refund', status: raw, snapshot: { sub_mchid: '1900000110' } },
      ]);
    }
  });
});

describe('normalizeNotification — profit sharing', () => {
  it('projects profit sharing that arrives as TRANSACTION.SUCCESS with original_type transaction', () => {
    const notification = outer({ eventType: 'TRANSACTION.SUCCESS', originalType: 'transaction' });

    const event = normalizeNotification(notification, profitSharingResource(), merchant);

    expect(contentKind(profitSharingResource())).toBe('profitsharing');
    expect(event.changes).toEqual([
      {
        kind: 'object',
        provider: 'wechatpay',
        account: MCHID,
        objectType: 'profit_sharing',
        objectId: '3008450740201411110007820472/1900000111',
        status: 'SUCCESS',
        deleted: false,
        snapshot: profitSharingResource(),
        asOf: new Date('2025-03-01T03:00:00Z'),
      },
    ]);
  });

  it('tells a return from a share by the event type', () => {
    const returned = outer({ eventType: 'PROFITSHARING.RETURN', originalType: 'profitsharing' });
    const shared = outer({ eventType: 'PROFITSHARING.SUCCESS', originalType: 'profitsharing' });
    expect(normalizeNotification(returned, profitSharingResource(), merchant).changes).toMatchObject([
      { objectType: 'profit_sharing', status: 'RETURN' },
    ]);
    expect(normalizeNotification(shared, profitSharingResource(), merchant).changes).toMatchObject([
      { objectType: 'profit_sharing', status: 'SUCCESS' },
    ]);
  });

  it('accepts a movement received by our merchant from another sharer, and rejects one naming neither', () => {
    const notification = outer({ eventType: 'PROFITSHARING.SUCCESS', originalType: 'profitsharing' });
    const received = {
      ...profitSharingResource(),
      sp_mchid: '1900000222',
      receiver: { type: 'MERCHANT_ID', account: MCHID, amount: 5, description: 'x' },
    };
    expect(normalizeNotification(notification, received, merchant).changes).toHaveLength(1);
    const foreign = { ...received, receiver: { ...received.receiver, account: '1900000333' } };
    expect(normalizeError(() => normalizeNotification(notification, foreign, merchant)).code).toBe(
      'WECHATPAY_MERCHANT_MISMATCH',
    );
  });

  it('stores original_type profitsharing whose content is not a movement, with no changes', () => {
    const notification = outer({ eventType: 'PROFITSHARING.SUCCESS', originalType: 'profitsharing' });
    expect(normalizeNotification(notification, transactionResource(), merchant).changes).toEqual([]);
  });

  it('fails loudly on a movement without its amount', () => {
    const notification = outer({ eventType: 'PROFITSHARING.SUCCESS', originalType: 'profitsharing' });
    const resource = { ...profitSharingResource(), receiver: { type: 'MERCHANT_ID', account: '1' } };
    expect(normalizeError(() => normalizeNotification(notification, resource, merchant)).code).toBe(
      'WECHATPAY_RESOURCE_INVALID',
    );
  });
});

describe('normalizeNotification — stored-only events', () => {
  it('stores unknown original types and event types with no changes', () => {
    const notification = outer({ eventType: 'MARKETING.FAVOR.USED', originalType: 'coupon' });
    const event = normalizeNotification(notification, { stock_id: '9856000', coupon_id: '1234' }, merchant);
    expect(event).toMatchObject({ eventType: 'MARKETING.FAVOR.USED', account: MCHID, changes: [] });
  });
});

describe('normalizeNotification — merchant check', () => {
  it('rejects a resource for another mchid or appid', () => {
    for (const overrides of [{ mchid: '1900000999' }, { appid: 'wx0000000000000000' }]) {
      const error = normalizeError(() =>
        normalizeNotification(outer(), transactionResource(overrides), merchant),
      );
      expect(error.code).toBe('WECHATPAY_MERCHANT_MISMATCH');
    }
    const refund = normalizeError(() =>
      normalizeNotification(outer({ originalType: 'refund' }), refundResource({ mchid: '1' }), merchant),
    );
    expect(refund.code).toBe('WECHATPAY_MERCHANT_MISMATCH');
  });

  it('rejects stored-only content naming another merchant too', () => {
    const error = normalizeError(() =>
      normalizeNotification(outer({ originalType: 'coupon' }), { mchid: '1900000999' }, merchant),
    );
    expect(error.code).toBe('WECHATPAY_MERCHANT_MISMATCH');
  });

  it('requires the mchid on payments and refunds, and accepts a resource without appid', () => {
    expect(
      normalizeError(() =>
        normalizeNotification(outer(), transactionResource({ mchid: undefined }), merchant),
      ).code,
    ).toBe('WECHATPAY_RESOURCE_INVALID');
    expect(
      normalizeNotification(outer(), transactionResource({ appid: undefined }), merchant).changes,
    ).toHaveLength(1);
  });

  it('matches service-provider notifications on sp_mchid / sp_appid', () => {
    const resource = transactionResource({
      mchid: undefined,
      appid: undefined,
      sp_mchid: MCHID,
      sp_appid: APPID,
      sub_mchid: '1900000110',
    });
    const changes = normalizeNotification(outer(), resource, merchant).changes;
    expect(changes).toMatchObject([
      { kind: 'payment', account: MCHID },
      { kind: 'object', objectType: 'transaction', status: 'SUCCESS', snapshot: { sub_mchid: '1900000110' } },
    ]);
    expect(
      normalizeError(() => normalizeNotification(outer(), { ...resource, sp_mchid: '1900000110' }, merchant))
        .code,
    ).toBe('WECHATPAY_MERCHANT_MISMATCH');
  });
});

describe('openNotification', () => {
  it('parses, decrypts and normalizes an encrypted body', () => {
    const body = notificationBody(transactionResource(), { id: 'EV-open' });

    const opened = openNotification(body, merchant);

    expect(opened.notification.resource.associated_data).toBe('transaction');
    expect(opened.resource).toEqual(transactionResource());
    expect(opened.event.changes).toMatchObject([{ kind: 'payment', amountMinor: 12345n }]);
  });

  it('throws DecryptError when the body was encrypted under another APIv3 key', () => {
    const body = notificationBody(transactionResource(), { apiv3Key: APIV3_KEY.replace('a', 'b') });
    expect(() => openNotification(body, merchant)).toThrow(DecryptError);
  });

  it('throws NormalizeError for a non-notification body and for a decrypted resource that is not JSON', () => {
    expect(normalizeError(() => openNotification('{"id":1}', merchant)).code).toBe(
      'WECHATPAY_NOTIFICATION_INVALID',
    );
    expect(normalizeError(() => openNotification('not json', merchant)).code).toBe(
      'WECHATPAY_NOTIFICATION_INVALID',
    );

    const notJson = JSON.parse(notificationBody(transactionResource()).toString());
    notJson.resource = {
      original_type: 'transaction',
      ...encryptResource('plain text', APIV3_KEY, { associatedData: 'transaction' }),
    };
    expect(normalizeError(() => openNotification(JSON.stringify(notJson), merchant)).code).toBe(
      'WECHATPAY_RESOURCE_NOT_JSON',
    );
  });
});
