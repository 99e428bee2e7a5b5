import { writeFundFlowBill, writeTradeBill } from '@payhooks/testkit/bills/bill-writer';
import { describe, expect, it } from 'vitest';
import { BILL_FORMAT_CODES, parseFundFlowBill, parseTradeBill } from '../../src/recon/index.ts';
import { caught, collect, fundFlowRecord, text, tradeRecord } from './helpers.ts';

const payment = tradeRecord({ tradeTime: new Date('2025-02-28T16:30:00Z') });
const refund = tradeRecord({
  tradeTime: new Date('2025-03-01T07:20:11Z'),
  tradeState: 'REFUND',
  settlementAmountFen: 0n,
  orderAmountFen: 0n,
  refundId: '50300000012025030100000001',
  outRefundNo: 'REFUND-1',
  refundAmountFen: 3000n,
  requestedRefundAmountFen: 3000n,
  refundType: 'ORIGINAL',
  refundStatus: 'SUCCESS',
  refundRequestedAt: new Date('2025-03-01T07:20:00Z'),
  refundSucceededAt: new Date('2025-03-01T07:20:11Z'),
  feeMicro: -18000n,
});

describe('writeTradeBill', () => {
  it('writes the documented layout: header, backticked values, Beijing times, 5-decimal fees, summary', async () => {
    const bill = await text(writeTradeBill([payment, refund]));
    const lines = bill.split('\r\n');
    expect(lines[0]?.startsWith('交易时间,公众账号ID,商户号,')).toBe(true);
    expect(lines[1]?.startsWith('`2025-03-01 00:30:00,`wx8888888888888888,`1900000100,`0,`')).toBe(true);
    expect(lines[1]).toContain(',`咖啡豆, 500g,`');
    expect(lines[2]).toContain(',`-0.18000,`0.60%,`');
    expect(lines[3]).toBe(
      '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
    );
    expect(lines[4]).toBe('`2,`128.00,`30.00,`0.00,`0.59000,`128.00,`30.00');
    expect(lines[5]).toBe('');
  });

  it.each(['ALL', 'SUCCESS', 'REFUND'] as const)(
    'writes a %s bill that parses back with a matching summary',
    async (billType) => {
      const parsed = parseTradeBill(
        writeTradeBill([payment, refund], { billType, bom: true, lineEnding: '\n' }),
      );
      const rows = await collect(parsed);
      expect(rows).toHaveLength(2);
      expect(rows[1]?.feeMicro).toBe(-18000n);
      if (billType === 'SUCCESS') {
        expect(rows[1]?.refundAmountFen).toBe(0n);
        expect(parsed.summary().refundTotalFen).toBe(0n);
      } else {
        expect(rows[1]?.refundAmountFen).toBe(3000n);
        expect(parsed.summary().refundTotalFen).toBe(3000n);
      }
      if (billType === 'REFUND') expect(rows[1]?.refundRequestedAt).toEqual(refund.refundRequestedAt);
      else expect(rows[1]?.refundRequestedAt).toBeNull();
      expect(parsed.summary().feeTotalMicro).toBe(59000n);
    },
  );

  it('streams in chunks without holding the whole bill', async () => {
    function* many() {
      for (let i = 0; i < 5000; i += 1) yield tradeRecord({ outTradeNo: `O-${i}` });
    }
    const chunks = await collect(writeTradeBill(many(), { chunkSize: 4096 }));
    expect(chunks.length).toBeGreaterThan(100);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(4096 + 1000);
    const parsed = parseTradeBill(chunks);
    expect((await collect(parsed)).length).toBe(5000);
    expect(parsed.summary().settlementTotalFen).toBe(5000n * 12800n);
  });

  it('refuses values a bill cannot carry', async () => {
    for (const productName of ['line\nbreak', 'cr\r', 'sep,`arator']) {
      const error = await caught(() => text(writeTradeBill([tradeRecord({ productName })])));
      expect(error).toMatchObject({ code: BILL_FORMAT_CODES.unencodable, column: '商品名称' });
    }
    const badDate = await caught(() =>
      text(writeTradeBill([tradeRecord({ tradeTime: new Date(Number.NaN) })])),
    );
    expect(badDate).toMatchObject({ code: BILL_FORMAT_CODES.unencodable, column: '交易时间' });
  });
});

describe('writeFundFlowBill', () => {
  it('writes (元) or （元） headers and 收入/支出, and parses back', async () => {
    const records = [
      fundFlowRecord(),
      fundFlowRecord({
        flowId: 'FLOW-2',
        direction: 'expense',
        amountFen: 3000n,
        balanceFen: 109800n,
        note: '退款, 部分',
      }),
    ];
    for (const yuanSuffix of ['ascii', 'fullwidth'] as const) {
      const bill = await text(writeFundFlowBill(records, { yuanSuffix }));
      expect(bill).toContain(yuanSuffix === 'ascii' ? '收支金额(元)' : '收支金额（元）');
      expect(bill).toContain('`支出,`30.00,`1098.00,');
      const parsed = parseFundFlowBill(bill);
      const rows = await collect(parsed);
      expect(rows.map(({ line: _line, signedAmountFen: _s, ...rest }) => rest)).toEqual(records);
      expect(parsed.summary()).toMatchObject({
        incomeFen: 12800n,
        expenseFen: 3000n,
        incomeCount: 1,
        expenseCount: 1,
      });
    }
  });
});
