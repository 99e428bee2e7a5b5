// Personal data masking of provider bodies (what the operations console shows): names, e-mail, phone, addresses,
// card last4 / fingerprint / IIN, WeChat Pay payer fields and client IPs are masked at any depth; ids, amounts,
// statuses and times stay readable.
import { describe, expect, it } from 'vitest';
import { MASK, maskPersonalData, maskRawBody } from '../src/logger.ts';

const PERSONAL = [
  'Jenny Rosen',
  'jenny.rosen@example.com',
  '+15555550123',
  '510 Townsend St',
  'Apt 4',
  '94103',
  '4242',
  'Xt5EWLLDS7FJjR1c',
  '424242',
  'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  'oSubOpenid123',
  '14.23.150.211',
  'someone@example.org',
];

const stripeCharge = {
  id: 'evt_1',
  type: 'charge.succeeded',
  created: 1_764_000_000,
  data: {
    object: {
      id: 'ch_1',
      object: 'charge',
      amount: 2000,
      currency: 'usd',
      status: 'succeeded',
      payment_intent: 'pi_1',
      receipt_email: 'jenny.rosen@example.com',
      description: 'order for someone@example.org',
      metadata: { order_id: 'ORD-1' },
      billing_details: {
        name: 'Jenny Rosen',
        email: 'jenny.rosen@example.com',
        phone: '+15555550123',
        address: {
          line1: '510 Townsend St',
          line2: 'Apt 4',
          postal_code: '94103',
          city: 'SF',
          country: 'US',
        },
      },
      payment_method_details: {
        type: 'card',
        card: {
          brand: 'visa',
          last4: '4242',
          fingerprint: 'Xt5EWLLDS7FJjR1c',
          iin: '424242',
          exp_year: 2030,
        },
      },
      shipping: { name: 'Jenny Rosen', address: { line1: '510 Townsend St' } },
    },
  },
};

const wechatTransaction = {
  transaction_id: '4200001234202611230000000001',
  out_trade_no: 'ORD-2',
  trade_state: 'SUCCESS',
  amount: { total: 100, payer_total: 100, currency: 'CNY' },
  payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  scene_info: { device_id: 'POS-1', payerClientIp: '14.23.150.211' },
  sub_openid: 'oSubOpenid123',
  success_time: '2026-11-23T10:00:00+08:00',
};

describe('maskPersonalData', () => {
  it('masks every personal field of a Stripe charge and keeps ids, amounts, statuses', () => {
    const masked = maskPersonalData(stripeCharge) as typeof stripeCharge;
    const text = JSON.stringify(masked);
    for (const value of PERSONAL.filter((v) => !v.startsWith('o') && !v.startsWith('14.')))
      expect(text, value).not.toContain(value);
    const charge = masked.data.object;
    expect(charge).toMatchObject({ id: 'ch_1', amount: 2000, currency: 'usd', status: 'succeeded' });
    expect(charge.metadata).toEqual({ order_id: 'ORD-1' });
    expect(charge.billing_details.address).toEqual({
      line1: MASK,
      line2: MASK,
      postal_code: MASK,
      city: MASK,
      country: MASK,
    });
    expect(charge.payment_method_details.card).toEqual({
      brand: 'visa',
      last4: MASK,
      fingerprint: MASK,
      iin: MASK,
      exp_year: 2030,
    });
    expect(charge.description).toBe(`order for ${MASK}`);
  });

  it('masks WeChat Pay payer fields (openid, sub_openid, client IP, camelCase too)', () => {
    const masked = maskPersonalData(wechatTransaction) as typeof wechatTransaction;
    expect(masked.payer).toEqual({ openid: MASK });
    expect(masked.sub_openid).toBe(MASK);
    expect(masked.scene_info).toEqual({ device_id: 'POS-1', payerClientIp: MASK });
    expect(masked).toMatchObject({
      transaction_id: wechatTransaction.transaction_id,
      trade_state: 'SUCCESS',
    });
    expect(masked.amount).toEqual(wechatTransaction.amount);
  });

  it('keeps null as null (nothing given) and does not change its input', () => {
    const input = { email: null, billing_details: { name: null, phone: '1' } };
    expect(maskPersonalData(input)).toEqual({ email: null, billing_details: { name: null, phone: MASK } });
    expect(input.billing_details.phone).toBe('1');
  });
});

describe('maskRawBody', () => {
  it('pretty-prints a masked JSON body with no personal value left', () => {
    const body = maskRawBody(JSON.stringify({ ...stripeCharge, extra: wechatTransaction }));
    for (const value of PERSONAL) expect(body, value).not.toContain(value);
    expect(JSON.parse(body).data.object.id).toBe('ch_1');
  });

  it('masks e-mail addresses and card or phone numbers in a body that is not JSON', () => {
    const body = maskRawBody('card 4242 4242 4242 4242 of jenny.rosen@example.com, call +1 555 555 0123');
    expect(body).toBe(`card ${MASK} of ${MASK}, call ${MASK}`);
  });
});
