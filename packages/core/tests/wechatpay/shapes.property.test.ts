// The fast resource checks (providers/wechatpay/shapes.ts) decide only for what the zod schemas of
// notification.ts accept: for any decrypted resource — each field valid, odd or missing — a check that accepts it
// returns exactly the schema's values, so the schemas stay the contract.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import {
  refundResourceSchema,
  transactionResourceSchema,
} from '../../src/providers/wechatpay/notification.ts';
import { fastRefund, fastTransaction } from '../../src/providers/wechatpay/shapes.ts';

const odd = fc.constantFrom<unknown>(
  undefined,
  null,
  '',
  'x',
  0,
  -1,
  1.5,
  2 ** 53,
  true,
  [],
  {},
  { total: 1 },
  '2026-02-30T10:00:00+08:00',
  '2026-12-01T10:00:00',
  '2026-12-01 10:00:00+08:00',
  'SUCCESS',
  'CNY1',
);
// Valid 9 times in 10: a resource has ~20 fields, so at 3 in 4 only ≈ 0.3 % of records were wholly valid and a
// run could draw fewer than the 10 accepted records the test requires (8 of 4000 seen); each record still carries
// about two odd fields on average.
const field = (...valid: unknown[]) => fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...valid) }, odd);
const time = field(undefined, '2026-12-01T10:00:00+08:00', '2024-02-29T23:59:59.5Z');
const ids = {
  appid: field(undefined, 'wx1'),
  mchid: field(undefined, '1900000001'),
  sp_appid: field(undefined, 'wx2'),
  sp_mchid: field(undefined, '1900000002'),
  sub_appid: field(undefined, 'wx3'),
  sub_mchid: field(undefined, '1900000109'),
};

const transaction = fc.record({
  ...ids,
  out_trade_no: field('ORDER-1'),
  transaction_id: field('4200000001'),
  trade_type: field(undefined, 'JSAPI'),
  trade_state: field('SUCCESS', 'NOTPAY', 'CLOSED', 'REFUND'),
  trade_state_desc: field(undefined, '支付成功'),
  bank_type: field(undefined, 'CMC'),
  attach: field(undefined, ''),
  success_time: time,
  payer: field(undefined, { openid: 'o1' }),
  amount: fc.oneof(
    fc.record({
      total: field(1, 0, 2 ** 40),
      payer_total: field(undefined, 1),
      currency: field('CNY', 'usd'),
      payer_currency: field(undefined, 'CNY'),
    }),
    odd,
  ),
  promotion_detail: field(undefined, [], [{ id: 1 }]),
});

const refund = fc.record({
  ...ids,
  transaction_id: field('4200000001'),
  out_trade_no: field('ORDER-1'),
  refund_id: field('50000001'),
  out_refund_no: field('R-1'),
  refund_status: field('SUCCESS', 'CLOSED', 'ABNORMAL', 'PROCESSING'),
  success_time: time,
  user_received_account: field(undefined, '招商银行信用卡0403'),
  amount: fc.oneof(
    fc.record({
      total: field(100, 0),
      refund: field(100, 1),
      payer_total: field(undefined, 100),
      payer_refund: field(undefined, 1),
      currency: field(undefined, 'CNY'),
    }),
    odd,
  ),
});

const cases: [string, fc.Arbitrary<unknown>, z.ZodType, (v: unknown) => unknown][] = [
  ['transaction', transaction, transactionResourceSchema, fastTransaction],
  ['refund', refund, refundResourceSchema, fastRefund],
];

/** Deep subset: every value the fast check returns is the schema's (the schema may return more fields). */
function expectSubset(quick: unknown, full: unknown, path: string): void {
  if (typeof quick === 'object' && quick !== null) {
    for (const [key, value] of Object.entries(quick)) {
      expectSubset(value, (full as Record<string, unknown>)[key], `${path}.${key}`);
    }
    return;
  }
  expect(quick, path).toEqual(full);
}

describe('WeChat Pay fast resource checks', () => {
  for (const [name, arbitrary, schema, fast] of cases) {
    it(`${name}: accepts only what the schema accepts, with the schema's values`, () => {
      let accepted = 0;
      fc.assert(
        fc.property(arbitrary, (raw) => {
          const value = JSON.parse(JSON.stringify(raw)) as unknown;
          const quick = fast(value);
          if (quick === undefined) return;
          accepted++;
          const parsed = schema.safeParse(value);
          expect(parsed.success).toBe(true);
          expectSubset(quick, parsed.data, name);
        }),
        { numRuns: 4000 },
      );
      expect(accepted).toBeGreaterThan(100);
    });
  }
});
