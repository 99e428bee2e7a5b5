// Step 5 of the demo (WeChat Pay): what the provider holds for yesterday — the notified traffic, plus three
// deliberate differences the reconciliation must find, plus the traffic of earlier starts in a persistent ledger.
import { randomInt } from 'node:crypto';
import { listSettled, type Sql } from '@payhooks/core/ledger';
import { businessWindow } from '@payhooks/core/recon/run';
import type {
  SandboxRefundInput,
  SandboxTransactionInput,
  WechatpayProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import type { WechatpayScenario } from '@payhooks/testkit/sandbox/wechatpay-scenario';
import { DemoScenarioError } from '../errors.ts';
import { deliberatePaymentBreaks } from './expected-breaks.ts';
import type { DemoPlan } from './plan.ts';
import type { ExpectedBreak } from './types.ts';
import type { WechatpayTraffic } from './wechatpay-callbacks.ts';

const beijing = (unixSeconds: number) =>
  `${new Date((unixSeconds + 8 * 3600) * 1000).toISOString().slice(0, 19)}+08:00`;

/** The notifications' last word on each paid order and refund, as WeChat Pay holds them. */
function wechatpayRecords(scenario: WechatpayScenario): {
  transactions: SandboxTransactionInput[];
  refunds: SandboxRefundInput[];
} {
  const transactions = new Map<string, SandboxTransactionInput>();
  const refunds = new Map<string, SandboxRefundInput>();
  for (const n of scenario.notifications) {
    const r = n.resource as Record<string, unknown> & { amount?: Record<string, number> };
    if (n.originalType === 'transaction' && Array.isArray(r.sub_orders)) {
      // A combined payment: each sub-order is a transaction of its own in the bill.
      for (const order of r.sub_orders as {
        mchid: string;
        out_trade_no: string;
        transaction_id: string;
        success_time: string;
        amount: { total_amount: number };
      }[]) {
        transactions.set(order.out_trade_no, {
          mchid: order.mchid,
          outTradeNo: order.out_trade_no,
          transactionId: order.transaction_id,
          amountFen: order.amount.total_amount,
          successTime: order.success_time,
        });
      }
    } else if (n.originalType === 'transaction' && typeof r.out_trade_no === 'string' && r.amount) {
      if (transactions.has(r.out_trade_no)) continue; // notified twice
      transactions.set(r.out_trade_no, {
        mchid: String(r.sp_mchid ?? r.mchid),
        outTradeNo: r.out_trade_no,
        transactionId: String(r.transaction_id),
        amountFen: r.amount.total!,
        successTime: String(r.success_time),
      });
    } else if (n.originalType === 'refund' && r.amount) {
      const refundId = String(r.refund_id);
      const status = String(r.refund_status) as NonNullable<SandboxRefundInput['status']>;
      const earlier = refunds.get(refundId);
      refunds.set(refundId, {
        outTradeNo: String(r.out_trade_no),
        outRefundNo: String(r.out_refund_no),
        refundId,
        amountFen: r.amount.refund!,
        status,
        createTime: earlier?.createTime ?? n.createTime,
        ...(typeof r.success_time === 'string' ? { successTime: r.success_time } : {}),
      });
    }
  }
  return { transactions: [...transactions.values()], refunds: [...refunds.values()] };
}

/** A payment WeChat Pay holds (bill and query API) but never notified: the reconciliation heals it. */
function addNeverNotified(wx: WechatpayProviderSandbox, mchid: string, plan: DemoPlan) {
  return wx.addTransaction({
    mchid,
    outTradeNo: `WX-${plan.seed}-NEVER-NOTIFIED`,
    // Unique across starts: a persistent ledger holds the earlier starts' ones (healed then).
    transactionId: `4200002345${plan.dates.wechatpay.replaceAll('-', '')}${randomInt(10 ** 9, 10 ** 10)}`,
    amountFen: 8800,
    successTime: beijing(plan.wechatpayStart + 900),
    notified: false,
  });
}

/**
 * Registers the traffic with the sandbox, the first merchant's two unrefunded payments changed (one left out of the
 * bill, one billed 0.01 CNY more) and a payment that was never notified; returns the breaks that must follow and
 * the ids of everything registered.
 */
function plantWechatpayDifferences(
  wx: WechatpayProviderSandbox,
  { scenario, merchants }: WechatpayTraffic,
  plan: DemoPlan,
): { breaks: ExpectedBreak[]; ids: Set<string> } {
  const { transactions, refunds } = wechatpayRecords(scenario);
  const mchid = merchants.merchants[0]!.mchid;
  const refunded = new Set(refunds.map((r) => r.outTradeNo));
  const [notInBill, differs] = transactions.filter((t) => t.mchid === mchid && !refunded.has(t.outTradeNo));
  if (!notInBill || !differs)
    throw new DemoScenarioError(
      'the WeChat Pay scenario needs two unrefunded payments of the first merchant',
    );
  for (const tx of transactions) {
    wx.addTransaction({
      ...tx,
      ...(tx === notInBill ? { inBill: false } : {}),
      ...(tx === differs ? { billAmountFen: Number(tx.amountFen) + 1 } : {}),
    });
  }
  for (const refund of refunds) wx.addRefund(refund);
  const never = addNeverNotified(wx, mchid, plan);
  const breaks = deliberatePaymentBreaks(
    'wechatpay',
    mchid,
    {
      neverNotified: never.transactionId!,
      notInFile: notInBill.transactionId!,
      amountDiffers: differs.transactionId!,
    },
    {
      neverNotified: 'paid, never notified (bill only)',
      notInFile: 'notified, missing from the bill',
      amountDiffers: 'the bill shows 0.01 CNY more',
    },
  );
  const ids = new Set([
    ...transactions.map((t) => t.transactionId!),
    ...refunds.map((r) => r.refundId!),
    never.transactionId!,
  ]);
  return { breaks, ids };
}

/** Earlier starts on the same business day (a persistent ledger): their traffic is the provider's too. */
async function addEarlierWechatpayTraffic(
  sql: Sql,
  wx: WechatpayProviderSandbox,
  { merchants }: WechatpayTraffic,
  plan: DemoPlan,
  registered: ReadonlySet<string>,
  log: (text: string) => void,
): Promise<void> {
  const mchids = merchants.merchants.map((m) => m.mchid);
  const settled = await listSettled(
    sql,
    'wechatpay',
    mchids,
    businessWindow('wechatpay', plan.dates.wechatpay),
  );
  const payments = settled.payments.filter((p) => !registered.has(p.id));
  const refunds = settled.refunds.filter((r) => !registered.has(r.id));
  for (const p of payments) {
    wx.addTransaction({
      mchid: p.account,
      outTradeNo: p.orderNo ?? `EARLIER-${p.id}`,
      transactionId: p.id,
      amountFen: p.amountMinor,
      currency: p.currency,
      successTime: p.succeededAt,
    });
  }
  for (const r of refunds) {
    const tx = wx.transactions().find((t) => t.transactionId === r.paymentId);
    if (!tx || !r.refundNo) continue;
    wx.addRefund({
      outTradeNo: tx.outTradeNo,
      outRefundNo: r.refundNo,
      refundId: r.id,
      amountFen: r.amountMinor,
      successTime: r.succeededAt,
    });
  }
  if (payments.length + refunds.length > 0)
    log(
      `\nsandbox: ${payments.length} payment(s) and ${refunds.length} refund(s) of ${plan.dates.wechatpay} from earlier starts are in the WeChat Pay bills too`,
    );
}

/** What WeChat Pay's bills for yesterday hold; returns the breaks the reconciliation must report. */
export async function stageWechatpayBills(
  sql: Sql,
  wx: WechatpayProviderSandbox,
  traffic: WechatpayTraffic,
  plan: DemoPlan,
  log: (text: string) => void,
): Promise<ExpectedBreak[]> {
  const { breaks, ids } = plantWechatpayDifferences(wx, traffic, plan);
  await addEarlierWechatpayTraffic(sql, wx, traffic, plan, ids, log);
  return breaks;
}
