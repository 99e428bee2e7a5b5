// A generated WeChat Pay trade bill (bill_type ALL) of any size, written with the project's bill writer: the gzip
// file a bill download serves, its announced SHA-1 (over the plaintext, as WeChat documents), and the same rows as
// a plain CSV of the staged columns for the COPY baseline. Deterministic; 5 % of the rows are refunds.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { type TradeBillRecord, writeTradeBill } from '@payhooks/core/recon';

const START = Date.UTC(2026, 10, 22, 16, 0, 0); // 2026-11-23 00:00 Beijing time

function* records(count: number): Generator<TradeBillRecord> {
  for (let i = 0; i < count; i++) {
    const amount = BigInt(100 + ((i * 7919) % 99_900));
    const refund = i % 20 === 19;
    const at = new Date(START + Math.floor((i * 86_399_000) / count));
    yield {
      tradeTime: at,
      appid: 'wxd678efh567hg6787',
      mchid: '1900000109',
      subMchid: null,
      deviceInfo: '',
      transactionId: `42000${String(i).padStart(23, '0')}`,
      outTradeNo: `WX-20261123-${i}`,
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      tradeType: 'JSAPI',
      tradeState: refund ? 'REFUND' : 'SUCCESS',
      bankType: 'CMC',
      currency: 'CNY',
      settlementAmountFen: refund ? 0n : amount,
      couponAmountFen: 0n,
      refundRequestedAt: refund ? at : null,
      refundSucceededAt: refund ? new Date(at.getTime() + 60_000) : null,
      refundId: refund ? `50300${String(i).padStart(24, '0')}` : null,
      outRefundNo: refund ? `RF-20261123-${i}` : null,
      refundAmountFen: refund ? amount : 0n,
      rechargeCouponRefundFen: 0n,
      refundType: refund ? 'ORIGINAL' : '',
      refundStatus: refund ? 'SUCCESS' : '',
      productName: 'Widget, large',
      attach: '',
      feeMicro: refund ? -amount * 6n : amount * 6n, // 0.60 % at 1e-5 yuan
      feeRate: '0.60%',
      orderAmountFen: refund ? 0n : amount,
      requestedRefundAmountFen: refund ? amount : 0n,
      rateNote: '',
    };
  }
}

/** The staged columns, in COPY order (the payer's openid is not staged). */
export const STAGING_COLUMNS = [
  'line',
  'trade_time',
  'appid',
  'mchid',
  'sub_mchid',
  'transaction_id',
  'out_trade_no',
  'trade_type',
  'trade_state',
  'currency',
  'settlement_fen',
  'refund_id',
  'out_refund_no',
  'refund_fen',
  'fee_micro',
  'order_fen',
] as const;

export const STAGING_TABLE_SQL = (table: string) => `create unlogged table ${table} (
  line int not null, trade_time timestamptz not null, appid text not null, mchid text not null, sub_mchid text,
  transaction_id text not null, out_trade_no text not null, trade_type text not null, trade_state text not null,
  currency char(3) not null, settlement_fen bigint not null, refund_id text, out_refund_no text,
  refund_fen bigint not null, fee_micro bigint not null, order_fen bigint not null)`;

export interface StagedRow {
  line: number;
  tradeTime: Date;
  appid: string;
  mchid: string;
  subMchid: string | null;
  transactionId: string;
  outTradeNo: string;
  tradeType: string;
  tradeState: string;
  currency: string;
  settlementAmountFen: bigint;
  refundId: string | null;
  outRefundNo: string | null;
  refundAmountFen: bigint;
  feeMicro: bigint;
  orderAmountFen: bigint;
}

/** One CSV line of the staged columns; ids and codes never hold commas or quotes, so no quoting is needed. */
export function csvLine(r: StagedRow): string {
  return `${r.line},${r.tradeTime.toISOString()},${r.appid},${r.mchid},${r.subMchid ?? ''},${r.transactionId},${r.outTradeNo},${r.tradeType},${r.tradeState},${r.currency},${r.settlementAmountFen},${r.refundId ?? ''},${r.outRefundNo ?? ''},${r.refundAmountFen},${r.feeMicro},${r.orderAmountFen}\n`;
}

async function write(stream: Writable, chunk: string | Buffer): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

async function close(stream: Writable): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

export interface GeneratedBill {
  rows: number;
  gzipFile: string;
  csvFile: string;
  sha1: string;
  plainBytes: number;
}

export async function generateBill(rows: number, gzipFile: string, csvFile: string): Promise<GeneratedBill> {
  const hash = createHash('sha1');
  const gzip = createGzip();
  const gzipOut = createWriteStream(gzipFile);
  gzip.pipe(gzipOut);
  let plainBytes = 0;
  for await (const text of writeTradeBill(records(rows), { billType: 'ALL' })) {
    const bytes = Buffer.from(text, 'utf8');
    hash.update(bytes);
    plainBytes += bytes.length;
    await write(gzip, bytes);
  }
  gzip.end();
  await once(gzipOut, 'finish');

  // The baseline's plain CSV: the same rows, as the pipeline stages them (line = the row's line in the bill).
  const csv = createWriteStream(csvFile);
  let buffer = '';
  let line = 1;
  for (const r of records(rows)) {
    line += 1;
    buffer += csvLine({ ...r, line });
    if (buffer.length > 65_536) {
      await write(csv, buffer);
      buffer = '';
    }
  }
  await write(csv, buffer);
  await close(csv);
  return { rows, gzipFile, csvFile, sha1: hash.digest('hex'), plainBytes };
}
