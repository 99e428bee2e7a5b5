// A WeChat Pay trade bill as finance would have downloaded it from the merchant platform, for the upload tests.
import { gzipSync } from 'node:zlib';
import type { TradeBillRecord } from '@payhooks/core/recon';
import { writeTradeBill } from '@payhooks/testkit/bills/bill-writer';

function trade(mchid: string, transactionId: string, fen: bigint): TradeBillRecord {
  return {
    tradeTime: new Date('2025-03-01T02:00:00Z'),
    appid: 'wxd678efh567hg6787',
    mchid,
    subMchid: null,
    deviceInfo: '',
    transactionId,
    outTradeNo: `O-${transactionId}`,
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    tradeType: 'JSAPI',
    tradeState: 'SUCCESS',
    bankType: 'CMC',
    currency: 'CNY',
    settlementAmountFen: fen,
    couponAmountFen: 0n,
    refundRequestedAt: null,
    refundSucceededAt: null,
    refundId: null,
    outRefundNo: null,
    refundAmountFen: 0n,
    rechargeCouponRefundFen: 0n,
    refundType: '',
    refundStatus: '',
    productName: '商品',
    attach: '',
    feeMicro: 600n,
    feeRate: '0.60%',
    orderAmountFen: fen,
    requestedRefundAmountFen: 0n,
    rateNote: '',
  };
}

/** A gzip WeChat Pay trade bill (ALL columns) of successful JSAPI payments on 2025-03-01, order no. `O-<id>`. */
export async function gzipTradeBill(
  mchid: string,
  payments: readonly (readonly [transactionId: string, fen: bigint])[],
): Promise<Buffer> {
  let text = '';
  for await (const chunk of writeTradeBill(payments.map(([id, fen]) => trade(mchid, id, fen)))) text += chunk;
  return gzipSync(Buffer.from(text, 'utf8'));
}
