// The merchant's own orders (`merchant_orders`): what each order should be paid, written by the merchant's order
// system. The consumer compares every succeeded payment with its order and records a payment anomaly on a
// difference; this module is how an order system (or the local sandbox) writes those rows.
import { PayhooksError } from '../errors.ts';
import type { Sql } from './db.ts';

/** A merchant order the ledger cannot scope (code MERCHANT_ORDER_ACCOUNT_MISSING). */
export class MerchantOrderError extends PayhooksError {}

/** merchant_orders.account of a Stripe platform's own orders (their payments carry no Connect account: ''). */
export const STRIPE_PLATFORM_ACCOUNT = 'platform';

/**
 * Which merchant_orders row (alias o) may check a payment (alias i, columns provider and account): the order of
 * the payment's own account only — a Stripe platform payment ('') the 'platform' order; a WeChat Pay payment its
 * mchid's order, or an order naming no merchant ('': the deployment's only merchant).
 */
export const ORDER_ACCOUNT_MATCH = `(o.account = i.account
  or (i.provider = 'stripe' and i.account = '' and o.account = '${STRIPE_PLATFORM_ACCOUNT}')
  or (i.provider = 'wechatpay' and o.account = ''))`;

export interface MerchantOrderInput {
  merchantOrderNo: string;
  amountMinor: bigint;
  currency: string;
  /**
   * The account the order belongs to. WeChat Pay: the mchid; '' (default) for the deployment's only merchant.
   * Stripe (required): STRIPE_PLATFORM_ACCOUNT, acct_… of a Connect account, or a configured account id.
   */
  account?: string;
  /** WeChat Pay: the sub-merchant (sub_mchid) of a service provider's order; the sweep's partner query needs it. */
  subAccount?: string;
}

/**
 * Inserts or updates the orders in one statement (the latest amount and currency win); returns how many rows were
 * written. An order number given twice keeps its last entry, as writing them one after the other would.
 */
export async function recordMerchantOrders(
  sql: Sql,
  provider: string,
  orders: readonly MerchantOrderInput[],
): Promise<number> {
  const byKey = new Map<string, MerchantOrderInput>();
  if (provider === 'stripe' && orders.some((order) => !order.account)) {
    throw new MerchantOrderError(
      'MERCHANT_ORDER_ACCOUNT_MISSING',
      `a Stripe merchant order must name its account ('${STRIPE_PLATFORM_ACCOUNT}', acct_…, or a configured account id)`,
    );
  }
  for (const order of orders) byKey.set(`${order.account ?? ''}\u0000${order.merchantOrderNo}`, order);
  if (byKey.size === 0) return 0;
  const rows = [...byKey.values()].map((order) => ({
    provider,
    account: order.account ?? '',
    merchant_order_no: order.merchantOrderNo,
    amount_minor: order.amountMinor.toString(),
    currency: order.currency,
    sub_account: order.subAccount ?? null,
  }));
  const written = await sql`insert into merchant_orders ${sql(rows)}
    on conflict (provider, account, merchant_order_no)
    do update set amount_minor = excluded.amount_minor, currency = excluded.currency,
      sub_account = excluded.sub_account`;
  return written.count;
}
