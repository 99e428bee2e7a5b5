// Builders for the reconciliation run tests: crafted ledger rows, WeChat bills written with the bill writer and
// served by an in-memory bill API, an in-memory object store, and a silent logger.
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import * as BillFixtures from '@payhooks/testkit/bills/bill-fixtures';
import { writeTradeBill } from '@payhooks/testkit/bills/bill-writer';
import type { Sql } from '../../src/ledger/index.ts';
import type { Logger, ObjectStore } from '../../src/ports.ts';
import type { BillAnswer, SubMerchantBillAnswer } from '../../src/providers/wechatpay/client.ts';
import type { TradeBillRecord } from '../../src/recon/index.ts';
import type { WechatpayBillApi } from '../../src/recon/run/index.ts';

export const MCHID = '1900000109';

export class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, { body: Buffer; contentType: string }>();
  async put(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    this.objects.set(key, {
      body: Buffer.from(typeof body === 'string' ? Buffer.from(body, 'utf8') : body),
      contentType,
    });
  }
  async putFile(key: string, file: string, contentType: string): Promise<void> {
    await this.put(key, await readFile(file), contentType);
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key)?.body;
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }
  async link(key: string): Promise<string> {
    return `memory://${key}`;
  }
  text(key: string): string {
    const found = this.objects.get(key);
    if (!found) throw new Error(`no object ${key}`);
    return found.body.toString('utf8');
  }
}

/** Empties the ledger and every table a reconciliation run writes (the break register included), between tests. */
export async function truncateReconTables(sql: Sql): Promise<void> {
  await sql`truncate payments, refunds, inbox_events, recon_runs, recon_lines, recon_items, recon_reports,
    recon_break_events, recon_break_sightings, recon_breaks, recon_day_totals, recon_payout_transactions`;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A trade bill row with sensible defaults (a SUCCESS payment of 1.00 CNY). */
export function tradeRecord(overrides: Partial<TradeBillRecord> = {}): TradeBillRecord {
  return {
    tradeTime: new Date('2025-03-01T02:00:00Z'),
    appid: 'wxd678efh567hg6787',
    mchid: MCHID,
    subMchid: null,
    deviceInfo: '',
    transactionId: '4200000000000000000001',
    outTradeNo: 'ORDER-1',
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    tradeType: 'JSAPI',
    tradeState: 'SUCCESS',
    bankType: 'CMC',
    currency: 'CNY',
    settlementAmountFen: 100n,
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
    orderAmountFen: 100n,
    requestedRefundAmountFen: 0n,
    rateNote: '',
    ...overrides,
  };
}

export async function billText(records: TradeBillRecord[]): Promise<string> {
  let text = '';
  for await (const chunk of writeTradeBill(records, { bom: true })) text += chunk;
  return text;
}

/** An in-memory WeChat bill API: serves the given trade bill text gzipped (or says there is none). */
export function billApi(options: {
  trade?: string;
  announcedSha1?: string;
  fundFlow?: string;
}): WechatpayBillApi & { downloads: number; served: Map<string, Buffer> } {
  const served = new Map<string, Buffer>();
  const answer = (name: string, text: string | undefined, announced?: string): BillAnswer => {
    if (text === undefined) return { empty: true, code: 'NO_STATEMENT_EXIST', signed: true };
    const packed = BillFixtures.packBill(text);
    served.set(name, packed.body);
    return {
      empty: false,
      hashType: 'SHA1',
      hashValue: announced ?? packed.hashValue,
      downloadUrl: `mem://${name}`,
    };
  };
  const api = {
    downloads: 0,
    served,
    async tradeBill() {
      return answer('trade', options.trade, options.announcedSha1);
    },
    async fundFlowBill() {
      return answer('fund', options.fundFlow);
    },
    async subMerchantFundFlowBill(): Promise<SubMerchantBillAnswer> {
      return { empty: true, code: 'NO_STATEMENT_EXIST', signed: true };
    },
    async download(url: string) {
      api.downloads += 1;
      const body = served.get(url.replace('mem://', ''));
      if (!body) throw new Error(`nothing at ${url}`);
      // Cut into small chunks: the pipeline must not rely on one buffer.
      const chunks: Buffer[] = [];
      for (let i = 0; i < body.length; i += 7) chunks.push(body.subarray(i, i + 7));
      return Readable.from(chunks);
    },
  };
  return api;
}

export interface LedgerPayment {
  id: string;
  amount: bigint;
  currency?: string;
  status?: string;
  succeededAt?: string | null;
  orderNo?: string;
  account?: string;
  provider?: 'wechatpay' | 'stripe';
}

export async function insertPayment(sql: Sql, p: LedgerPayment): Promise<void> {
  const status = p.status ?? 'succeeded';
  const at = p.succeededAt ?? '2025-03-01T02:00:00Z';
  await sql`
    insert into payments (provider, provider_payment_id, account, merchant_order_no, amount_minor, currency, status,
      status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
    values (${p.provider ?? 'wechatpay'}, ${p.id}, ${p.account ?? MCHID}, ${p.orderNo ?? null}, ${p.amount.toString()},
      ${p.currency ?? 'CNY'}, ${status}, ${status === 'succeeded' ? 100 : 10}, ${at},
      ${status === 'succeeded' ? at : null}, ${at}, 'evt-seed', ${`0:${p.id}`})`;
}

export async function insertRefund(
  sql: Sql,
  r: {
    id: string;
    paymentId: string;
    amount: bigint;
    refundNo: string;
    currency?: string;
    succeededAt?: string;
    account?: string;
    provider?: 'wechatpay' | 'stripe';
  },
): Promise<void> {
  const at = r.succeededAt ?? '2025-03-01T03:00:00Z';
  await sql`
    insert into refunds (provider, provider_refund_id, provider_payment_id, account, merchant_refund_no, merchant_order_no,
      amount_minor, currency, status, status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
    values (${r.provider ?? 'wechatpay'}, ${r.id}, ${r.paymentId}, ${r.account ?? MCHID}, ${r.refundNo}, null,
      ${r.amount.toString()}, ${r.currency ?? 'CNY'}, 'succeeded', 90, ${at}, ${at}, ${at}, 'evt-seed', ${`0:${r.id}`})`;
}
