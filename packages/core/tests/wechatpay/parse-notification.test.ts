// The shared notification parser, ingress side: size bound (413), UTF-8 JSON (400), notification envelope shape (400).
import { describe, expect, it } from 'vitest';
import { NormalizeError, VerificationError } from '../../src/errors.ts';
import {
  assertBodySize,
  DEFAULT_MAX_BODY_BYTES,
  parseNotification,
  parseNotificationBody,
} from '../../src/providers/wechatpay/parse-notification.ts';
import { notificationBody, transactionResource } from '../helpers/wechatpay-fixtures.ts';

function rejection(fn: () => unknown): VerificationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(VerificationError);
    return error as VerificationError;
  }
  throw new Error('expected a VerificationError');
}

describe('parseNotificationBody', () => {
  it('returns the envelope of a valid notification', () => {
    const body = notificationBody(transactionResource(), { id: 'EV-body' });

    const notification = parseNotificationBody(body);

    expect(notification).toMatchObject({
      id: 'EV-body',
      event_type: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      resource: {
        original_type: 'transaction',
        algorithm: 'AEAD_AES_256_GCM',
        associated_data: 'transaction',
      },
    });
  });

  it('rejects bodies over the maximum with 413, before parsing', () => {
    const body = Buffer.alloc(DEFAULT_MAX_BODY_BYTES + 1, 0x20);

    const error = rejection(() => parseNotificationBody(body));

    expect(error).toMatchObject({ code: 'WECHATPAY_BODY_TOO_LARGE', status: 413 });
    expect(rejection(() => assertBodySize(Buffer.alloc(11), 10)).code).toBe('WECHATPAY_BODY_TOO_LARGE');
    expect(() => assertBodySize(Buffer.alloc(10), 10)).not.toThrow();
  });

  it.each([
    ['not JSON', Buffer.from('id=EV-1&event_type=x')],
    ['empty', Buffer.alloc(0)],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])],
  ])('rejects a body that is %s with 400 WECHATPAY_BODY_NOT_JSON', (_name, body) => {
    expect(rejection(() => parseNotificationBody(body))).toMatchObject({
      code: 'WECHATPAY_BODY_NOT_JSON',
      status: 400,
    });
  });

  it('rejects JSON that is not a notification envelope, naming the fields to check', () => {
    const valid = JSON.parse(notificationBody(transactionResource()).toString());
    const cases = [
      [],
      { ...valid, id: undefined },
      { ...valid, create_time: '2025-03-01 09:15:03' },
      { ...valid, resource: { ...valid.resource, algorithm: 'AES_128_CBC' } },
      { ...valid, resource: undefined },
    ];
    for (const value of cases) {
      const error = rejection(() => parseNotificationBody(Buffer.from(JSON.stringify(value))));
      expect(error).toMatchObject({ code: 'WECHATPAY_BODY_INVALID', status: 400 });
    }
    expect(
      rejection(() => parseNotificationBody(Buffer.from(JSON.stringify({ ...valid, id: 5 })))).message,
    ).toContain('check id');
  });
});

describe('parseNotification', () => {
  it('returns the text it parsed, equal to the received bytes, so ingress stores them without decoding again', () => {
    const body = notificationBody(transactionResource(), { id: 'EV-text' });

    const parsed = parseNotification(body, { parser: 'ingress' });

    expect(parsed.notification.id).toBe('EV-text');
    expect(Buffer.from(parsed.text, 'utf8').equals(body)).toBe(true);
  });

  it('keeps a byte-order mark, so a BOM-prefixed body fails instead of being silently dropped', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), notificationBody(transactionResource())]);
    expect(rejection(() => parseNotification(body, { parser: 'ingress' })).code).toBe(
      'WECHATPAY_BODY_NOT_JSON',
    );
  });

  it('maps the same failures to NormalizeError for the consumer, so the message is retried and dead-lettered', () => {
    const valid = JSON.parse(notificationBody(transactionResource()).toString());
    const consumerError = (body: string | Buffer) => {
      try {
        parseNotification(body, { parser: 'consumer' });
      } catch (error) {
        expect(error).toBeInstanceOf(NormalizeError);
        return error as NormalizeError;
      }
      throw new Error('expected a NormalizeError');
    };

    expect(consumerError('not json').code).toBe('WECHATPAY_NOTIFICATION_INVALID');
    expect(consumerError(Buffer.from([0x7b, 0xff, 0x7d])).code).toBe('WECHATPAY_NOTIFICATION_INVALID');
    const shape = consumerError(JSON.stringify({ ...valid, id: 5 }));
    expect(shape.code).toBe('WECHATPAY_NOTIFICATION_INVALID');
    expect(shape.message).toContain('check id');
    expect(parseNotification(JSON.stringify(valid), { parser: 'consumer' }).notification.id).toBe(valid.id);
  });
});
