// The merchant's own orders (`merchant_orders`): what each order should be paid, written by the merchant's order
// system. The consumer compares every succeeded payment with its order and records a payment anomaly on a
// difference; this module is how an order system (or the local sandbox) writes those rows.
import type { Sql } from './db.ts';

export interface MerchantOrderInput {
  merchantOrderNo: string;
  amountMinor: bigint;
  currency: string;
  /** The mchid or acct_… the order belongs to; '' (default): any account of the provider. */
  account?: string;
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
  for (const order of orders) byKey.set(`${order.account ?? ''}\u0000${order.merchantOrderNo}`, order);
  if (byKey.size === 0) return 0;
  const rows = [...byKey.values()].map((order) => ({
    provider,
    account: order.account ?? '',
    merchant_order_no: order.merchantOrderNo,
    amount_minor: order.amountMinor.toString(),
    currency: order.currency,
  }));
  const written = await sql`insert into merchant_orders ${sql(rows)}
    on conflict (provider, account, merchant_order_no)
    do update set amount_minor = excluded.amount_minor, currency = excluded.currency`;
  return written.count;
}
