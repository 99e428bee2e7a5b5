// Case 5's data: a deterministic business day of WeChat Pay activity for one merchant, registered in the provider
// API sandbox (which writes the trade bill with the project's bill writer and serves it gzip with its SHA-1), the
// ledger rows that match it (COPYed into `payments` / `refunds` before timing), and the same bill rows as a plain
// CSV of the staged columns for the COPY baseline. 5 % of the bill's rows are refunds. A few rows differ on
// purpose so the report has breaks: payments never notified (missing in the ledger; healed through the sandbox's
// query API), bill amounts that differ from the ledger's, and ledger payments absent from the bill.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { WechatpayProviderSandbox } from '@payhooks/testkit/sandbox/provider-api';

/** 2026-11-23 00:00 Beijing time: the business date every row falls on. */
const START = Date.UTC(2026, 10, 22, 16, 0, 0);
export const BUSINESS_DATE = '2026-11-23';
const APPID = 'wxd678efh567hg6787';
const feeOf = (fen: bigint) => (fen * 6n + 500n) / 1000n; // the sandbox's default fee: 0.6 %, half up

export interface DayPlan {
  /** Rows of the trade bill (payments + refunds). */
  rows: number;
  /** Rows per deliberate break class (never notified, amount differs, absent from the bill). */
  breaksPerClass: number;
}

interface PlannedPayment {
  kind: 'payment';
  line: number;
  outTradeNo: string;
  transactionId: string;
  amountFen: bigint;
  at: Date;
  /** false: in the bill, not in the ledger (missing_in_ledger, healable). */
  notified: boolean;
  /** What the bill shows (≠ amountFen: amount_mismatch). */
  billAmountFen: bigint;
  /** false: in the ledger, not in the bill (missing_at_provider). */
  inBill: boolean;
}

interface PlannedRefund {
  kind: 'refund';
  line: number;
  outTradeNo: string;
  transactionId: string;
  outRefundNo: string;
  refundId: string;
  amountFen: bigint;
  at: Date;
}

type Planned = PlannedPayment | PlannedRefund;

const amountOf = (i: number) => BigInt(100 + ((i * 7919) % 99_900));

/** The day's rows in bill order (line = the row's line in the bill; line 1 is the header). */
export function* plannedRows(plan: DayPlan): Generator<Planned> {
  const { rows } = plan;
  const stride = Math.floor(rows / plan.breaksPerClass);
  if (stride % 20 !== 0) throw new Error(`rows / breaksPerClass must be a multiple of 20 (got ${stride})`);
  for (let i = 0; i < rows; i++) {
    const at = new Date(START + Math.floor((i * 86_399_000) / rows));
    if (i % 20 === 19) {
      // A full refund of the previous row's payment.
      yield {
        kind: 'refund',
        line: i + 2,
        outTradeNo: `WX-20261123-${i - 1}`,
        transactionId: `42000${String(i - 1).padStart(23, '0')}`,
        outRefundNo: `RF-20261123-${i}`,
        refundId: `50300${String(i).padStart(24, '0')}`,
        amountFen: amountOf(i - 1),
        at,
      };
      continue;
    }
    const amountFen = amountOf(i);
    yield {
      kind: 'payment',
      line: i + 2,
      outTradeNo: `WX-20261123-${i}`,
      transactionId: `42000${String(i).padStart(23, '0')}`,
      amountFen,
      at,
      notified: i % stride !== 1,
      billAmountFen: i % stride === 2 ? amountFen + 1n : amountFen,
      inBill: true,
    };
  }
  // Ledger payments of the day the provider does not list.
  for (let k = 0; k < plan.breaksPerClass; k++) {
    yield {
      kind: 'payment',
      line: 0,
      outTradeNo: `WX-20261123-nobill-${k}`,
      transactionId: `42009${String(k).padStart(23, '0')}`,
      amountFen: 5000n + BigInt(k),
      at: new Date(START + 3_600_000 + k * 1000),
      notified: true,
      billAmountFen: 5000n + BigInt(k),
      inBill: false,
    };
  }
}

/** Registers the day in the sandbox (addTransaction / addRefund, with fixed ids the ledger rows share). */
export function registerDay(sandbox: WechatpayProviderSandbox, mchid: string, plan: DayPlan): void {
  for (const row of plannedRows(plan)) {
    if (row.kind === 'payment') {
      sandbox.addTransaction({
        mchid,
        outTradeNo: row.outTradeNo,
        transactionId: row.transactionId,
        amountFen: row.amountFen,
        successTime: row.at,
        bankType: 'CMC',
        notified: row.notified,
        inBill: row.inBill,
        billAmountFen: row.billAmountFen,
      });
    } else {
      sandbox.addRefund({
        outTradeNo: row.outTradeNo,
        outRefundNo: row.outRefundNo,
        refundId: row.refundId,
        amountFen: row.amountFen,
        successTime: row.at,
      });
    }
  }
}

/** Classes reconcile() should report for the plan (after healing). */
export function expectedCounts(plan: DayPlan): Record<string, number> {
  return {
    matched: plan.rows - plan.breaksPerClass,
    amount_mismatch: plan.breaksPerClass,
    missing_at_provider: plan.breaksPerClass,
  };
}

async function write(stream: Writable, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

async function writeLines(file: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(file);
  let buffer = '';
  for (const line of lines) {
    buffer += line;
    if (buffer.length > 65_536) {
      await write(out, buffer);
      buffer = '';
    }
  }
  await write(out, buffer);
  out.end();
  await once(out, 'finish');
}

export const PAYMENT_COLUMNS = [
  'provider',
  'provider_payment_id',
  'account',
  'merchant_order_no',
  'amount_minor',
  'currency',
  'status',
  'status_rank',
  'first_seen_at',
  'succeeded_at',
  'updated_at',
  'last_event_id',
  'version',
] as const;

export const REFUND_COLUMNS = [
  'provider',
  'provider_refund_id',
  'provider_payment_id',
  'account',
  'merchant_refund_no',
  'merchant_order_no',
  'amount_minor',
  'currency',
  'status',
  'status_rank',
  'first_seen_at',
  'succeeded_at',
  'updated_at',
  'last_event_id',
  'version',
] as const;

/** Marks the seeded ledger rows, so rows healing adds can be removed between repetitions. */
export const SEED_EVENT_ID = 'bench-seed';

/** The ledger as the callbacks would have left it: CSV files for COPY into payments and refunds. */
export async function writeLedgerCsv(
  plan: DayPlan,
  mchid: string,
  paymentsFile: string,
  refundsFile: string,
): Promise<{ payments: number; refunds: number }> {
  let payments = 0;
  let refunds = 0;
  await writeLines(
    paymentsFile,
    (function* () {
      for (const r of plannedRows(plan)) {
        if (r.kind !== 'payment' || !r.notified) continue;
        payments += 1;
        const at = r.at.toISOString();
        yield `wechatpay,${r.transactionId},${mchid},${r.outTradeNo},${r.amountFen},CNY,succeeded,100,${at},${at},${at},${SEED_EVENT_ID},0:${r.transactionId}\n`;
      }
    })(),
  );
  await writeLines(
    refundsFile,
    (function* () {
      for (const r of plannedRows(plan)) {
        if (r.kind !== 'refund') continue;
        refunds += 1;
        const at = r.at.toISOString();
        yield `wechatpay,${r.refundId},${r.transactionId},${mchid},${r.outRefundNo},${r.outTradeNo},${r.amountFen},CNY,succeeded,90,${at},${at},${at},${SEED_EVENT_ID},0:${r.refundId}\n`;
      }
    })(),
  );
  return { payments, refunds };
}

/** The baseline's staged columns, in COPY order (what a bill row holds, minus the payer's openid). */
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

/** The bill's rows as a plain CSV of the staged columns (no quoting needed: no commas or quotes in the values). */
export async function writeBaselineCsv(plan: DayPlan, mchid: string, file: string): Promise<number> {
  let rows = 0;
  await writeLines(
    file,
    (function* () {
      for (const r of plannedRows(plan)) {
        if (r.kind === 'payment' && !r.inBill) continue;
        rows += 1;
        const at = r.at.toISOString();
        if (r.kind === 'payment') {
          const fee = feeOf(r.amountFen) * 1000n;
          yield `${r.line},${at},${APPID},${mchid},,${r.transactionId},${r.outTradeNo},JSAPI,SUCCESS,CNY,${r.billAmountFen},,,0,${fee},${r.billAmountFen}\n`;
        } else {
          const fee = -feeOf(r.amountFen) * 1000n;
          yield `${r.line},${at},${APPID},${mchid},,${r.transactionId},${r.outTradeNo},JSAPI,REFUND,CNY,0,${r.refundId},${r.outRefundNo},${r.amountFen},${fee},0\n`;
        }
      }
    })(),
  );
  return rows;
}
