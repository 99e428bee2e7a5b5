import { describe, expect, it } from 'vitest';
import { MoneyError } from '../../src/errors.ts';
import {
  BILL_FORMAT_CODES,
  BillFormatError,
  BillSummaryMismatchError,
  PERSONAL_DATA_FIELDS,
  parseFundFlowBill,
  parseTradeBill,
} from '../../src/recon/index.ts';
import {
  byteChunks,
  caught,
  collect,
  FUND_FLOW_SUMMARY_HEADER,
  fundFlowLines,
  OPENID,
  TRADE_HEADER_ALL,
  TRADE_SUMMARY_HEADER,
  tradeBillAllLines,
  valueRow,
} from './helpers.ts';

const encoder = new TextEncoder();

async function parseTradeText(textOrChunks: Parameters<typeof parseTradeBill>[0]) {
  const bill = parseTradeBill(textOrChunks);
  const rows = await collect(bill);
  return { rows, summary: bill.summary() };
}

describe('parseTradeBill: format rules', () => {
  it('reads an ALL bill: backticks stripped, commas inside 商品名称/商户数据包 kept, ids and amounts typed', async () => {
    const { rows, summary } = await parseTradeText(`${tradeBillAllLines().join('\n')}\n`);

    expect(rows).toHaveLength(3);
    const [payment, refund, small] = rows;
    expect(payment).toMatchObject({
      line: 2,
      appid: 'wx8888888888888888',
      mchid: '1900000100',
      subMchid: null,
      deviceInfo: '',
      transactionId: '4200000001202503010000000001',
      outTradeNo: 'ORDER-1',
      openid: OPENID,
      tradeType: 'JSAPI',
      tradeState: 'SUCCESS',
      bankType: 'CMB_DEBIT',
      currency: 'CNY',
      settlementAmountFen: 12800n,
      couponAmountFen: 0n,
      refundId: null,
      outRefundNo: null,
      refundAmountFen: 0n,
      productName: '咖啡豆, 500g,深烘',
      attach: '{"a":1,"b":2}',
      feeMicro: 77000n,
      feeFen: 77n,
      feeRate: '0.60%',
      orderAmountFen: 12800n,
      requestedRefundAmountFen: 0n,
      rateNote: '',
    });
    expect(refund).toMatchObject({
      tradeState: 'REFUND',
      settlementAmountFen: 0n,
      refundId: '50300000012025030100000001',
      outRefundNo: 'REFUND-1',
      refundAmountFen: 3000n,
      refundType: 'ORIGINAL',
      refundStatus: 'SUCCESS',
      feeMicro: -18000n,
      feeFen: -18n,
      requestedRefundAmountFen: 3000n,
    });
    expect(small).toMatchObject({
      subMchid: '1900000109',
      deviceInfo: 'POS-7',
      refundId: null,
      feeMicro: 600n,
      feeFen: null,
      rateNote: '费率优惠',
    });
    expect(summary).toEqual({
      kind: 'trade',
      columns: TRADE_HEADER_ALL.split(','),
      declaredTotals: TRADE_SUMMARY_HEADER.split(','),
      rowCount: 3,
      settlementTotalFen: 12900n,
      refundTotalFen: 3000n,
      rechargeCouponRefundTotalFen: 0n,
      feeTotalMicro: 59600n,
      orderTotalFen: 12900n,
      requestedRefundTotalFen: 3000n,
    });
  });

  it('converts Beijing wall-clock times to UTC: 00:30 Beijing is 16:30 UTC on the previous day', async () => {
    const { rows } = await parseTradeText(tradeBillAllLines().join('\n'));
    expect(rows[0]?.tradeTime.toISOString()).toBe('2025-02-28T16:30:00.000Z');
    expect(rows[1]?.tradeTime.toISOString()).toBe('2025-03-01T07:20:11.000Z');
    expect(rows[2]?.tradeTime.toISOString()).toBe('2025-03-01T15:59:59.000Z');
  });

  it('accepts a UTF-8 BOM and CRLF, even when bytes arrive in chunks that split characters and CRLF pairs', async () => {
    const bytes = encoder.encode(`\uFEFF${tradeBillAllLines().join('\r\n')}\r\n`);
    const expected = await parseTradeText(tradeBillAllLines().join('\n'));
    for (const size of [1, 2, 3, 7, 64]) {
      const { rows, summary } = await parseTradeText(byteChunks(bytes, size));
      expect(rows).toEqual(expected.rows);
      expect(summary).toEqual(expected.summary);
    }
  });

  it('reads from a Node Readable and from string chunks', async () => {
    const { Readable } = await import('node:stream');
    const text = tradeBillAllLines().join('\n');
    const fromReadable = await parseTradeText(Readable.from([Buffer.from(text)]));
    const fromStrings = await parseTradeText(text.match(/[\s\S]{1,5}/g) ?? []);
    expect(fromReadable.rows).toHaveLength(3);
    expect(fromStrings.rows).toEqual(fromReadable.rows);
  });

  it('normalises (元) and （元） in headers and ignores blank lines', async () => {
    const lines = tradeBillAllLines();
    lines[0] = TRADE_HEADER_ALL.replace('应结订单金额', '应结订单金额(元)').replace(
      '订单金额,',
      '订单金额（元）,',
    );
    const { rows } = await parseTradeText(['', ...lines.slice(0, 2), '  ', ...lines.slice(2), ''].join('\n'));
    expect(rows.map((r) => r.settlementAmountFen)).toEqual([12800n, 0n, 100n]);
    expect(rows.map((r) => r.orderAmountFen)).toEqual([12800n, 0n, 100n]);
  });

  it('parses a bill with zero rows (header + summary)', async () => {
    const { rows, summary } = await parseTradeText(
      [
        TRADE_HEADER_ALL,
        TRADE_SUMMARY_HEADER,
        valueRow('0', '0.00', '0.00', '0.00', '0.00000', '0.00', '0.00'),
      ].join('\r\n'),
    );
    expect(rows).toEqual([]);
    expect(summary.rowCount).toBe(0);
    expect(summary.feeTotalMicro).toBe(0n);
  });

  it('maps SUCCESS bill columns (no refund columns) by name', async () => {
    const header =
      '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,' +
      '应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注';
    const text = [
      header,
      valueRow(
        '2025-03-01 12:00:00',
        'wx1',
        '1900000100',
        '0',
        '',
        'T1',
        'O1',
        OPENID,
        'JSAPI',
        'SUCCESS',
        'OTHERS',
        'CNY',
        '10.00',
        '1.00',
        '商品, A',
        'x,y',
        '0.06000',
        '0.60%',
        '11.00',
        '',
      ),
      TRADE_SUMMARY_HEADER,
      valueRow('1', '10.00', '0.00', '0.00', '0.06000', '11.00', '0.00'),
    ].join('\n');
    const { rows, summary } = await parseTradeText(text);
    expect(rows[0]).toMatchObject({
      settlementAmountFen: 1000n,
      couponAmountFen: 100n,
      orderAmountFen: 1100n,
      refundId: null,
      refundAmountFen: 0n,
      requestedRefundAmountFen: 0n,
      refundType: '',
      productName: '商品, A',
      attach: 'x,y',
    });
    expect(summary.columns).toHaveLength(20);
  });

  it('maps REFUND bill columns, including 退款申请时间 / 退款成功时间', async () => {
    const header = TRADE_HEADER_ALL.replace('代金券金额,', '代金券金额,退款申请时间,退款成功时间,');
    const text = [
      header,
      valueRow(
        '2025-03-01 10:00:00',
        'wx1',
        '1900000100',
        '0',
        '',
        'T1',
        'O1',
        OPENID,
        'JSAPI',
        'REFUND',
        'OTHERS',
        'CNY',
        '0.00',
        '0.00',
        '2025-03-01 10:00:00',
        '2025-03-01 10:00:05',
        'R1',
        'OR1',
        '5.00',
        '0.00',
        'ORIGINAL',
        'SUCCESS',
        'P',
        '',
        '-0.03000',
        '0.60%',
        '0.00',
        '5.00',
        '',
      ),
      TRADE_SUMMARY_HEADER,
      valueRow('1', '0.00', '5.00', '0.00', '-0.03000', '0.00', '5.00'),
    ].join('\n');
    const { rows } = await parseTradeText(text);
    expect(rows[0]?.refundRequestedAt?.toISOString()).toBe('2025-03-01T02:00:00.000Z');
    expect(rows[0]?.refundSucceededAt?.toISOString()).toBe('2025-03-01T02:00:05.000Z');
    expect(rows[0]?.feeMicro).toBe(-3000n);
  });

  it('streams: rows come out before the source ends (an endless source can be read partially)', async () => {
    async function* endless() {
      yield `${TRADE_HEADER_ALL}\n`;
      const row = tradeBillAllLines()[1];
      for (;;) yield `${row}\n`;
    }
    let count = 0;
    for await (const row of parseTradeBill(endless())) {
      expect(row.outTradeNo).toBe('ORDER-1');
      count += 1;
      if (count === 1000) break;
    }
    expect(count).toBe(1000);
  });

  it('marks the payer id as personal data', () => {
    expect(PERSONAL_DATA_FIELDS).toContain('openid');
  });
});

describe('parseTradeBill: errors', () => {
  const withSummary = (summary: string[]) =>
    [...tradeBillAllLines().slice(0, -1), valueRow(...summary)].join('\n');

  it.each([
    ['总交易单数', ['4', '129.00', '30.00', '0.00', '0.59600', '129.00', '30.00'], 4n, 3n],
    ['应结订单总金额', ['3', '129.01', '30.00', '0.00', '0.59600', '129.00', '30.00'], 12901n, 12900n],
    ['退款总金额', ['3', '129.00', '31.00', '0.00', '0.59600', '129.00', '30.00'], 3100n, 3000n],
    ['手续费总金额', ['3', '129.00', '30.00', '0.00', '0.59601', '129.00', '30.00'], 59601n, 59600n],
    ['订单总金额', ['3', '129.00', '30.00', '0.00', '0.59600', '128.00', '30.00'], 12800n, 12900n],
    ['申请退款总金额', ['3', '129.00', '30.00', '0.00', '0.59600', '129.00', '0.00'], 0n, 3000n],
  ])(
    'a summary mismatch in %s is a BillSummaryMismatchError naming that total',
    async (total, summary, declared, computed) => {
      const bill = parseTradeBill(withSummary(summary));
      const error = await caught(() => collect(bill));
      expect(error).toBeInstanceOf(BillSummaryMismatchError);
      expect(error).toBeInstanceOf(BillFormatError);
      expect(error).toMatchObject({
        code: BILL_FORMAT_CODES.summaryMismatch,
        total,
        declared,
        computed,
        line: 6,
      });
      expect((error as Error).message).toContain(total);
      expect(await caught(() => bill.summary())).toMatchObject({ code: BILL_FORMAT_CODES.incomplete });
    },
  );

  it('rejects a file whose first line is a value row (missing header)', async () => {
    const error = await caught(() => collect(parseTradeBill(tradeBillAllLines().slice(1).join('\n'))));
    expect(error).toMatchObject({ code: BILL_FORMAT_CODES.headerMissing, line: 1 });
  });

  it('rejects an empty file', async () => {
    for (const empty of ['', '\uFEFF', '\r\n\r\n']) {
      const error = await caught(() => collect(parseTradeBill(empty)));
      expect(error).toMatchObject({ code: BILL_FORMAT_CODES.headerMissing });
    }
  });

  it('rejects a header lacking a required column, naming it', async () => {
    const lines = tradeBillAllLines();
    lines[0] = TRADE_HEADER_ALL.replace('商户订单号,', '');
    const error = await caught(() => collect(parseTradeBill(lines.join('\n'))));
    expect(error).toMatchObject({ code: BILL_FORMAT_CODES.missingColumn, column: '商户订单号', line: 1 });
  });

  it('rejects an unknown column unless told to ignore it', async () => {
    const lines = tradeBillAllLines().map((line, i) => {
      if (i === 0) return `${line},新列`;
      if (i >= 1 && i <= 3) return `${line},\`whatever, with comma`;
      return line;
    });
    const error = await caught(() => collect(parseTradeBill(lines.join('\n'))));
    expect(error).toMatchObject({ code: BILL_FORMAT_CODES.unknownColumn, column: '新列' });
    const rows = await collect(parseTradeBill(lines.join('\n'), { unknownColumns: 'ignore' }));
    expect(rows).toHaveLength(3);
  });

  it('rejects a duplicated column', async () => {
    const lines = tradeBillAllLines();
    lines[0] = `${TRADE_HEADER_ALL},商户号`;
    const error = await caught(() => collect(parseTradeBill(lines.join('\n'))));
    expect(error).toMatchObject({ code: BILL_FORMAT_CODES.duplicateColumn, column: '商户号' });
  });

  it('rejects a row with the wrong field count (e.g. a ",`" inside a value), with its line', async () => {
    const lines = tradeBillAllLines();
    lines[2] = lines[2]!.replace('咖啡豆, 500g', '咖啡豆,`500g');
    const error = await caught(() => collect(parseTradeBill(lines.join('\n'))));
    expect(error).toMatchObject({ code: BILL_FORMAT_CODES.fieldCount, line: 3 });
  });

  it.each([
    ['12.8a', 'not a decimal'],
    ['1,28.00', 'comma inside the number (money.ts would silently read 128.00)'],
    ['128.001', 'three decimals where fen allow two'],
    ['', 'empty settlement amount'],
  ])('rejects a bad amount %j (%s)', async (amount) => {
    const lines = tradeBillAllLines();
    lines[1] = lines[1]!.replace('`128.00,`0.00', `\`${amount},\`0.00`);
    const error = await caught(() => collect(parseTradeBill(lines.join('\n'))));
    expect(error).toBeInstanceOf(BillFormatError);
    expect(error).toMatchObject({ code: BILL_FORMAT_CODES.badAmount, line: 2, column: '应结订单金额' });
    expect((error as Error).cause).toBeInstanceOf(MoneyError);
  });

  it('rejects a fee with more than 5 significant decimals but accepts trailing zeros', async () => {
    const lines = tradeBillAllLines();
    lines[1] = lines[1]!.replace('`0.77000', '`0.770001');
    const error = await caught(() => collect(parseTradeBill(lines.join('\n'))));
    expect(error).toMatchObject({ code: BILL_FORMAT_CODES.badAmount, column: '手续费' });
    expect((error as Error & { cause: MoneyError }).cause.code).toBe('MONEY_PRECISION');

    lines[1] = tradeBillAllLines()[1]!.replace('`0.77000', '`0.7700000');
    expect(await collect(parseTradeBill(lines.join('\n')))).toHaveLength(3);
  });

  it.each(['2025-02-30 10:00:00', '2025-03-01T25:00:00', '2025/03/01', ''])(
    'rejects a bad time %j',
    async (time) => {
      const lines = tradeBillAllLines();
      lines[1] = lines[1]!.replace('2025-03-01 00:30:00', time);
      const error = await caught(() => collect(parseTradeBill(lines.join('\n'))));
      expect(error).toMatchObject({ code: BILL_FORMAT_CODES.badValue, column: '交易时间', line: 2 });
    },
  );

  it('rejects a bad currency', async () => {
    const lines = tradeBillAllLines();
    lines[1] = lines[1]!.replace('`CNY', '`人民币');
    const error = await caught(() => collect(parseTradeBill(lines.join('\n'))));
    expect(error).toMatchObject({ code: BILL_FORMAT_CODES.badValue, column: '货币种类' });
  });

  it('rejects a truncated file (no summary), after yielding the rows it had', async () => {
    const bill = parseTradeBill(tradeBillAllLines().slice(0, 3).join('\n'));
    const seen: number[] = [];
    const error = await caught(async () => {
      for await (const row of bill) seen.push(row.line);
    });
    expect(seen).toEqual([2, 3]);
    expect(error).toMatchObject({ code: BILL_FORMAT_CODES.summaryMissing });
    const noSummaryRow = await caught(() =>
      collect(parseTradeBill(tradeBillAllLines().slice(0, 5).join('\n'))),
    );
    expect(noSummaryRow).toMatchObject({ code: BILL_FORMAT_CODES.summaryMissing });
  });

  it('rejects content after the summary row', async () => {
    const error = await caught(() => collect(parseTradeBill([...tradeBillAllLines(), 'extra'].join('\n'))));
    expect(error).toMatchObject({ code: BILL_FORMAT_CODES.trailingContent, line: 7 });
  });

  it('rejects a summary row with the wrong field count and a non-numeric count', async () => {
    const short = [...tradeBillAllLines().slice(0, -1), valueRow('3', '129.00')].join('\n');
    expect(await caught(() => collect(parseTradeBill(short)))).toMatchObject({
      code: BILL_FORMAT_CODES.fieldCount,
    });
    const badCount = [
      ...tradeBillAllLines().slice(0, -1),
      valueRow('3x', '129.00', '30.00', '0.00', '0.59600', '129.00', '30.00'),
    ];
    expect(await caught(() => collect(parseTradeBill(badCount.join('\n'))))).toMatchObject({
      code: BILL_FORMAT_CODES.badValue,
      column: '总交易单数',
    });
  });

  it('rejects invalid UTF-8 and over-long lines', async () => {
    const bytes = Buffer.concat([
      Buffer.from(`${TRADE_HEADER_ALL}\n\``),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('\n'),
    ]);
    expect(await caught(() => collect(parseTradeBill(bytes)))).toMatchObject({
      code: BILL_FORMAT_CODES.encoding,
    });
    const truncatedChar = Buffer.from(`${TRADE_HEADER_ALL}\n中`).subarray(0, -1);
    expect(await caught(() => collect(parseTradeBill(truncatedChar)))).toMatchObject({
      code: BILL_FORMAT_CODES.encoding,
    });
    const long = `${TRADE_HEADER_ALL}\n\`${'x'.repeat(5000)}`;
    expect(await caught(() => collect(parseTradeBill(long, { maxLineLength: 1000 })))).toMatchObject({
      code: BILL_FORMAT_CODES.lineTooLong,
      line: 2,
    });
    async function* noNewline() {
      for (;;) yield 'x'.repeat(1000);
    }
    expect(await caught(() => collect(parseTradeBill(noNewline(), { maxLineLength: 10_000 })))).toMatchObject(
      {
        code: BILL_FORMAT_CODES.lineTooLong,
        line: 1,
      },
    );
  });

  it('rejects a chunk that is neither text nor bytes', async () => {
    async function* objects() {
      yield { not: 'text' };
    }
    expect(await caught(() => collect(parseTradeBill(objects())))).toMatchObject({
      code: BILL_FORMAT_CODES.encoding,
    });
  });

  it('can be iterated only once; rows() returns the summary too', async () => {
    const bill = parseTradeBill(tradeBillAllLines().join('\n'));
    const iterator = bill.rows();
    let result = await iterator.next();
    while (!result.done) result = await iterator.next();
    expect(result.value.rowCount).toBe(3);
    expect(bill.summary()).toBe(result.value);
    expect(await caught(() => collect(bill))).toMatchObject({ code: BILL_FORMAT_CODES.incomplete });
  });
});

describe('parseFundFlowBill', () => {
  it('reads income and expense rows with full-width (元) headers', async () => {
    const bill = parseFundFlowBill(`\uFEFF${fundFlowLines().join('\r\n')}\r\n`);
    const rows = await collect(bill);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({
      line: 2,
      bookedAt: new Date('2025-03-01T01:00:01Z'),
      businessId: '4200000001202503010000000001',
      flowId: 'FLOW-1',
      businessName: '交易',
      businessType: '交易',
      direction: 'income',
      amountFen: 12800n,
      signedAmountFen: 12800n,
      balanceFen: 112800n,
      applicant: 'system',
      note: '',
      voucherNo: 'REF-1',
    });
    expect(rows[1]).toMatchObject({
      direction: 'expense',
      amountFen: 3000n,
      signedAmountFen: -3000n,
      note: '退款, 部分',
    });
    expect(rows[2]).toMatchObject({ direction: 'expense', amountFen: 77n, balanceFen: 109723n });
    expect(bill.summary()).toMatchObject({
      kind: 'fundflow',
      rowCount: 3,
      incomeCount: 1,
      incomeFen: 12800n,
      expenseCount: 2,
      expenseFen: 3077n,
    });
  });

  it('accepts half-width (元) headers and a signed expense total', async () => {
    const header =
      '记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号';
    const lines = fundFlowLines(header);
    lines[lines.length - 1] = valueRow('3', '1', '128.00', '2', '-30.77');
    expect(await collect(parseFundFlowBill(lines.join('\n')))).toHaveLength(3);
  });

  it.each([
    ['资金流水总笔数', valueRow('2', '1', '128.00', '2', '30.77')],
    ['收入笔数', valueRow('3', '2', '128.00', '2', '30.77')],
    ['收入金额', valueRow('3', '1', '128.01', '2', '30.77')],
    ['支出笔数', valueRow('3', '1', '128.00', '1', '30.77')],
    ['支出金额', valueRow('3', '1', '128.00', '2', '30.78')],
  ])('names the differing total %s', async (total, summaryRow) => {
    const lines = fundFlowLines();
    lines[lines.length - 1] = summaryRow;
    const error = await caught(() => collect(parseFundFlowBill(lines.join('\n'))));
    expect(error).toBeInstanceOf(BillSummaryMismatchError);
    expect(error).toMatchObject({ total });
  });

  it('rejects an unknown 收支类型', async () => {
    const lines = fundFlowLines();
    lines[1] = lines[1]!.replace('`收入', '`入账');
    const error = await caught(() => collect(parseFundFlowBill(lines.join('\n'))));
    expect(error).toMatchObject({ code: BILL_FORMAT_CODES.badValue, column: '收支类型', line: 2 });
  });

  it('rejects a trade bill handed to the fund-flow parser (missing columns)', async () => {
    const error = await caught(() => collect(parseFundFlowBill(tradeBillAllLines().join('\n'))));
    expect(error).toMatchObject({ code: BILL_FORMAT_CODES.unknownColumn });
    const ignoring = await caught(() =>
      collect(parseFundFlowBill(tradeBillAllLines().join('\n'), { unknownColumns: 'ignore' })),
    );
    expect(ignoring).toMatchObject({ code: BILL_FORMAT_CODES.missingColumn });
  });

  it('parses a zero-row fund-flow bill', async () => {
    const bill = parseFundFlowBill(
      [fundFlowLines()[0], FUND_FLOW_SUMMARY_HEADER, valueRow('0', '0', '0.00', '0', '0.00')].join('\n'),
    );
    expect(await collect(bill)).toEqual([]);
    expect(bill.summary()).toMatchObject({ rowCount: 0, incomeFen: 0n, expenseFen: 0n });
  });
});
