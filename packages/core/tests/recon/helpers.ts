// Test builders for the reconciliation parsers: hand-written bill texts (built line by line here, so every format
// rule is visible in the test), chunkers that cut input at awkward places, and small collectors.
import type { FundFlowBillRecord, TradeBillRecord } from '../../src/recon/index.ts';

export const TRADE_HEADER_ALL =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,' +
  '应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,' +
  '手续费,费率,订单金额,申请退款金额,费率备注';

export const TRADE_SUMMARY_HEADER =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';

/** One detail row: every value prefixed with a backtick, joined by commas. */
export const valueRow = (...values: string[]) => values.map((v) => `\`${v}`).join(',');

export const OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';

/** ALL trade bill: a payment at 00:30 Beijing, its partial refund (negative fee), and a payment with a 5-decimal fee. */
export function tradeBillAllLines(): string[] {
  return [
    TRADE_HEADER_ALL,
    valueRow(
      '2025-03-01 00:30:00',
      'wx8888888888888888',
      '1900000100',
      '0',
      '',
      '4200000001202503010000000001',
      'ORDER-1',
      OPENID,
      'JSAPI',
      'SUCCESS',
      'CMB_DEBIT',
      'CNY',
      '128.00',
      '0.00',
      '',
      '',
      '0.00',
      '0.00',
      '',
      '',
      '咖啡豆, 500g,深烘',
      '{"a":1,"b":2}',
      '0.77000',
      '0.60%',
      '128.00',
      '0.00',
      '',
    ),
    valueRow(
      '2025-03-01 15:20:11',
      'wx8888888888888888',
      '1900000100',
      '0',
      '',
      '4200000001202503010000000001',
      'ORDER-1',
      OPENID,
      'JSAPI',
      'REFUND',
      'CMB_DEBIT',
      'CNY',
      '0.00',
      '0.00',
      '50300000012025030100000001',
      'REFUND-1',
      '30.00',
      '0.00',
      'ORIGINAL',
      'SUCCESS',
      '咖啡豆, 500g,深烘',
      '{"a":1,"b":2}',
      '-0.18000',
      '0.60%',
      '0.00',
      '30.00',
      '',
    ),
    valueRow(
      '2025-03-01 23:59:59',
      'wx8888888888888888',
      '1900000100',
      '1900000109',
      'POS-7',
      '4200000001202503010000000002',
      'ORDER-2',
      OPENID,
      'NATIVE',
      'SUCCESS',
      'OTHERS',
      'CNY',
      '1.00',
      '0.00',
      '0',
      '0',
      '0',
      '0',
      '',
      '',
      '矿泉水',
      '',
      '0.00600',
      '0.60%',
      '1.00',
      '0.00',
      '费率优惠',
    ),
    TRADE_SUMMARY_HEADER,
    valueRow('3', '129.00', '30.00', '0.00', '0.59600', '129.00', '30.00'),
  ];
}

export const FUND_FLOW_HEADER_FULLWIDTH =
  '记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号';
export const FUND_FLOW_SUMMARY_HEADER = '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额';

export function fundFlowLines(header = FUND_FLOW_HEADER_FULLWIDTH): string[] {
  return [
    header,
    valueRow(
      '2025-03-01 09:00:01',
      '4200000001202503010000000001',
      'FLOW-1',
      '交易',
      '交易',
      '收入',
      '128.00',
      '1128.00',
      'system',
      '',
      'REF-1',
    ),
    valueRow(
      '2025-03-01 15:20:11',
      '50300000012025030100000001',
      'FLOW-2',
      '退款',
      '退款',
      '支出',
      '30.00',
      '1098.00',
      'system',
      '退款, 部分',
      'REF-2',
    ),
    valueRow(
      '2025-03-01 23:59:59',
      '4200000001202503010000000001',
      'FLOW-3',
      '扣除交易手续费',
      '手续费',
      '支出',
      '0.77',
      '1097.23',
      'system',
      '',
      '',
    ),
    FUND_FLOW_SUMMARY_HEADER,
    valueRow('3', '1', '128.00', '2', '30.77'),
  ];
}

/** Cuts bytes into pieces of `size` (so multi-byte characters and CRLF pairs straddle chunk borders). */
export function* byteChunks(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

export async function text(chunks: AsyncIterable<string>): Promise<string> {
  return (await collect(chunks)).join('');
}

/** Runs `action` and returns what it threw (fails the test when nothing was thrown). */
export async function caught(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, none was thrown');
}

export function tradeRecord(overrides: Partial<TradeBillRecord> = {}): TradeBillRecord {
  return {
    tradeTime: new Date('2025-03-01T01:00:00Z'),
    appid: 'wx8888888888888888',
    mchid: '1900000100',
    subMchid: null,
    deviceInfo: '',
    transactionId: '4200000001202503010000000001',
    outTradeNo: 'ORDER-1',
    openid: OPENID,
    tradeType: 'JSAPI',
    tradeState: 'SUCCESS',
    bankType: 'OTHERS',
    currency: 'CNY',
    settlementAmountFen: 12800n,
    couponAmountFen: 0n,
    refundRequestedAt: null,
    refundSucceededAt: null,
    refundId: null,
    outRefundNo: null,
    refundAmountFen: 0n,
    rechargeCouponRefundFen: 0n,
    refundType: '',
    refundStatus: '',
    productName: '咖啡豆, 500g',
    attach: '',
    feeMicro: 77000n,
    feeRate: '0.60%',
    orderAmountFen: 12800n,
    requestedRefundAmountFen: 0n,
    rateNote: '',
    ...overrides,
  };
}

export function fundFlowRecord(overrides: Partial<FundFlowBillRecord> = {}): FundFlowBillRecord {
  return {
    bookedAt: new Date('2025-03-01T01:00:01Z'),
    businessId: '4200000001202503010000000001',
    flowId: 'FLOW-1',
    businessName: '交易',
    businessType: '交易',
    direction: 'income',
    amountFen: 12800n,
    balanceFen: 112800n,
    applicant: 'system',
    note: '',
    voucherNo: '',
    ...overrides,
  };
}
