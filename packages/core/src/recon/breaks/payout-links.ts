// Stripe payout reconciliation: each balance transaction of a balance_change report that names its automatic payout
// (automatic_payout_id) is linked to it in recon_payout_transactions, across business dates (a payout settles
// transactions of earlier days); each payout of the run's payouts report is then compared with the net of the
// transactions linked to it. A payout with linked transactions whose net differs (or whose currency differs) is a
// `payout_mismatch` item. A payout no reconciled transaction names yet is listed in summary.json (`payouts`,
// linkedTransactions 0) but is not a break: Stripe fills automatic_payout_id only once the payout exists, so a
// transaction reported before then is linked when its day is re-run.
import type { Provider } from '../../ledger/changes.ts';
import type { Sql, Tx } from '../../ledger/db.ts';

export interface PayoutLinkInput {
  provider: Provider;
  account: string;
  businessDate: string;
  runId: string;
}

/** Links the run's balance transactions to their payouts (replacing what earlier runs of the date linked). */
export async function linkPayoutTransactions(tx: Tx, input: PayoutLinkInput): Promise<void> {
  if (input.provider !== 'stripe') return;
  const { provider, account, businessDate, runId } = input;
  await tx`delete from recon_payout_transactions
            where provider = ${provider} and account = ${account} and business_date = ${businessDate}`;
  // Refund lines carry the refund's magnitude; the balance transaction's gross is negative.
  await tx`
    insert into recon_payout_transactions (provider, account, balance_transaction_id, payout_id, business_date, run_id,
      currency, kind, gross_minor, fee_minor, net_minor)
    select distinct on (reference) ${provider}, ${account}, reference, payout_id, ${businessDate}, ${runId}, trim(currency),
           kind, signed_gross, fee_scaled, signed_gross - fee_scaled
      from (select l.*, case when kind = 'refund' then -amount_minor else amount_minor end as signed_gross
              from recon_lines l
             where run_id = ${runId} and kind <> 'payout' and payout_id is not null and reference is not null) lines
     order by reference, source, line_no
    on conflict (provider, account, balance_transaction_id) do update set
      payout_id = excluded.payout_id, business_date = excluded.business_date, run_id = excluded.run_id,
      currency = excluded.currency, kind = excluded.kind, gross_minor = excluded.gross_minor,
      fee_minor = excluded.fee_minor, net_minor = excluded.net_minor`;
}

const ITEM_COLUMNS = `run_id, class, kind, source, line_no, payout_id, bill_amount_minor, ledger_amount_minor,
  bill_currency, ledger_currency, bill_status, fee_scaled, fee_scale, occurred_at, detail, bill_provider_status`;

/**
 * Adds a `payout_mismatch` item for each payout of the run whose linked transactions do not add up. Call after
 * linkPayoutTransactions and after matching (which replaces the run's items). Returns how many it added.
 */
export async function matchPayoutSettlements(tx: Tx, input: PayoutLinkInput): Promise<number> {
  if (input.provider !== 'stripe') return 0;
  const rows = await tx.unsafe(
    `insert into recon_items (${ITEM_COLUMNS})
     select $1, 'payout_mismatch', 'payout', p.source, p.line_no, p.payout_id, p.amount_minor, t.net, p.currency,
            t.currency, p.status, p.fee_scaled, p.fee_scale, p.occurred_at,
            'payout ' || p.amount_minor || ' ' || trim(p.currency) || '; its ' || t.n || ' linked balance transactions net '
              || t.net || ' ' || t.currency || ' (difference ' || (p.amount_minor - t.net) || ')',
            p.provider_status
       from (select distinct on (payout_id) * from recon_lines
              where run_id = $1 and kind = 'payout' and payout_id is not null
              order by payout_id, source, line_no) p
       join lateral (
         select count(*)::int as n, sum(net_minor)::bigint as net, string_agg(distinct trim(currency), '/') as currency
           from recon_payout_transactions t
          where t.provider = $2 and t.account = $3 and t.payout_id = p.payout_id
       ) t on t.n > 0
      where t.net <> p.amount_minor or t.currency <> trim(p.currency)
     returning 1`,
    [input.runId, input.provider, input.account],
  );
  return rows.length;
}

export interface PayoutSettlement {
  payoutId: string;
  currency: string;
  amountMinor: bigint;
  linkedTransactions: number;
  linkedNetMinor: bigint;
  differenceMinor: bigint;
}

/** Every payout of the run with what is linked to it, for summary.json (`payouts`). */
export async function payoutSettlements(sql: Sql | Tx, input: PayoutLinkInput): Promise<PayoutSettlement[]> {
  if (input.provider !== 'stripe') return [];
  const rows = await sql<
    { payout_id: string; currency: string; amount_minor: bigint; n: number; net: bigint }[]
  >`
    select p.payout_id, trim(p.currency) as currency, p.amount_minor, t.n, t.net
      from (select distinct on (payout_id) * from recon_lines
             where run_id = ${input.runId} and kind = 'payout' and payout_id is not null
             order by payout_id, source, line_no) p
      cross join lateral (
        select count(*)::int as n, coalesce(sum(net_minor), 0)::bigint as net from recon_payout_transactions t
         where t.provider = ${input.provider} and t.account = ${input.account} and t.payout_id = p.payout_id
      ) t
     order by p.payout_id`;
  return rows.map((r) => ({
    payoutId: r.payout_id,
    currency: r.currency,
    amountMinor: r.amount_minor,
    linkedTransactions: r.n,
    linkedNetMinor: r.net,
    differenceMinor: r.amount_minor - r.net,
  }));
}

/** The balance transactions linked to a payout (the console's payout view). */
export async function payoutTransactions(
  sql: Sql,
  input: { provider: Provider; account: string; payoutId: string },
): Promise<
  {
    balanceTransactionId: string;
    businessDate: string;
    kind: string;
    currency: string;
    grossMinor: bigint;
    feeMinor: bigint;
    netMinor: bigint;
  }[]
> {
  const rows = await sql<
    {
      balance_transaction_id: string;
      business_date: string;
      kind: string;
      currency: string;
      gross_minor: bigint;
      fee_minor: bigint;
      net_minor: bigint;
    }[]
  >`select balance_transaction_id, to_char(business_date, 'YYYY-MM-DD') as business_date, kind, trim(currency) as currency,
           gross_minor, fee_minor, net_minor
      from recon_payout_transactions
     where provider = ${input.provider} and account = ${input.account} and payout_id = ${input.payoutId}
     order by business_date, balance_transaction_id`;
  return rows.map((r) => ({
    balanceTransactionId: r.balance_transaction_id,
    businessDate: r.business_date,
    kind: r.kind,
    currency: r.currency,
    grossMinor: r.gross_minor,
    feeMinor: r.fee_minor,
    netMinor: r.net_minor,
  }));
}
