// Succeeded payments and refunds of a time window, read from the ledger: what a provider's files for that window
// must contain (the local sandbox rebuilds its bills and reports from them for traffic of earlier starts).
import type { Sql } from './db.ts';

export interface SettledPayment {
  id: string;
  account: string;
  orderNo: string | null;
  amountMinor: bigint;
  currency: string;
  succeededAt: Date;
}

export interface SettledRefund {
  id: string;
  paymentId: string | null;
  account: string;
  refundNo: string | null;
  amountMinor: bigint;
  currency: string;
  succeededAt: Date;
}

/** The provider's succeeded payments and refunds of these accounts with `start <= succeeded_at < end`. */
export async function listSettled(
  sql: Sql,
  provider: string,
  accounts: readonly string[],
  window: { start: Date; end: Date },
): Promise<{ payments: SettledPayment[]; refunds: SettledRefund[] }> {
  const payments = await sql<SettledPayment[]>`
    select provider_payment_id as id, account, merchant_order_no as "orderNo", amount_minor as "amountMinor",
      trim(currency) as currency, succeeded_at as "succeededAt"
    from payments where provider = ${provider} and account in ${sql([...accounts])} and status = 'succeeded'
      and succeeded_at >= ${window.start} and succeeded_at < ${window.end}`;
  const refunds = await sql<SettledRefund[]>`
    select provider_refund_id as id, provider_payment_id as "paymentId", account, merchant_refund_no as "refundNo",
      amount_minor as "amountMinor", trim(currency) as currency, succeeded_at as "succeededAt"
    from refunds where provider = ${provider} and account in ${sql([...accounts])} and status = 'succeeded'
      and succeeded_at >= ${window.start} and succeeded_at < ${window.end}`;
  return { payments: [...payments], refunds: [...refunds] };
}
