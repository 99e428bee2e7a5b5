// WeChat Pay backfill and the pending-order sweep. WeChat has no event list, so the compensation step is the one
// payment systems use: for merchant orders still unpaid in the ledger after a threshold, query the order and push
// what WeChat reports through the normal queue path (the query answer is re-encrypted into a notification-shaped
// body by the healer, so the queue never carries payer data in plaintext). Idempotent: the same answer gets the
// same event id and is absorbed by the inbox.

import { type ClaimStore, enqueueEnvelope } from '../envelope.ts';
import type { Sql } from '../ledger/db.ts';
import type { Queue } from '../ports.ts';
import type { Healer } from '../recon/run/types.ts';

export interface PendingOrder {
  merchantOrderNo: string;
  account: string;
  /** The sub-merchant (sub_mchid) of a service provider's order; null for a direct merchant's own. */
  subAccount: string | null;
  createdAt: Date;
}

/** Orders created in [createdAfter, createdBefore) with no succeeded payment in the ledger, oldest first. */
export async function pendingWechatpayOrders(
  sql: Sql,
  window: { createdAfter: Date; createdBefore: Date; limit: number },
): Promise<PendingOrder[]> {
  const rows = await sql<
    { merchant_order_no: string; account: string; sub_account: string | null; created_at: Date }[]
  >`
    select mo.merchant_order_no, mo.account, mo.sub_account, mo.created_at
    from merchant_orders mo
    where mo.provider = 'wechatpay' and mo.created_at >= ${window.createdAfter} and mo.created_at < ${window.createdBefore}
      and not exists (
        select 1 from payments p
        where p.provider = 'wechatpay' and p.merchant_order_no = mo.merchant_order_no and p.status = 'succeeded'
          and (mo.account = '' or p.account = mo.account))
    order by mo.created_at
    limit ${window.limit}`;
  return rows.map((row) => ({
    merchantOrderNo: row.merchant_order_no,
    account: row.account,
    subAccount: row.sub_account,
    createdAt: row.created_at,
  }));
}

export interface WechatpayBackfillOptions {
  sql: Sql;
  queue: Queue;
  /** The claim-check store for notifications whose envelope exceeds one queue message. */
  claims?: ClaimStore | undefined;
  /** The healer of the order's merchant (its mchid; '' = the only merchant); undefined when none is configured. */
  healerFor(account: string): Healer | undefined;
  createdAfter: Date;
  createdBefore: Date;
  limit?: number;
  dryRun?: boolean;
  onProgress?: (progress: WechatpayBackfillResult) => void;
}

export interface WechatpayBackfillResult {
  checked: number;
  enqueued: number;
  /** Orders WeChat reports as not paid (NOTPAY, CLOSED, …) or does not know. */
  stillPending: number;
  errors: { merchantOrderNo: string; code: string }[];
}

export async function backfillWechatpay(options: WechatpayBackfillOptions): Promise<WechatpayBackfillResult> {
  const orders = await pendingWechatpayOrders(options.sql, {
    createdAfter: options.createdAfter,
    createdBefore: options.createdBefore,
    limit: options.limit ?? 1000,
  });
  const result: WechatpayBackfillResult = { checked: 0, enqueued: 0, stillPending: 0, errors: [] };
  for (const order of orders) {
    result.checked += 1;
    const healer = options.healerFor(order.account);
    if (!healer) {
      result.errors.push({ merchantOrderNo: order.merchantOrderNo, code: 'WECHATPAY_UNKNOWN_MERCHANT' });
      continue;
    }
    try {
      const envelopes = await healer.envelopes({
        class: 'missing_in_ledger',
        kind: 'payment',
        providerPaymentId: null,
        providerRefundId: null,
        merchantOrderNo: order.merchantOrderNo,
        merchantRefundNo: null,
        payoutId: null,
        subAccount: order.subAccount,
      });
      const paid = envelopes.filter((envelope) => envelope.eventType === 'TRANSACTION.SUCCESS');
      if (paid.length === 0) result.stillPending += 1;
      if (!options.dryRun) for (const envelope of paid) await enqueueEnvelope(envelope, options);
      result.enqueued += options.dryRun ? 0 : paid.length;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ORDER_NOT_EXIST') result.stillPending += 1;
      else
        result.errors.push({
          merchantOrderNo: order.merchantOrderNo,
          code: typeof code === 'string' ? code : 'UNKNOWN',
        });
    }
    options.onProgress?.(result);
  }
  return result;
}
