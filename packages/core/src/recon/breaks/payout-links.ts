// Stripe payout reconciliation. Two sources link a balance transaction to the payout that settles it, in
// recon_payout_transactions (across business dates: a payout settles transactions of earlier days):
// - the payout_reconciliation.itemized report of the payout's day (`settlement` lines): every transaction of each
//   payout, so for those payouts the report is authoritative — links it does not list are dropped;
// - a balance_change report's automatic_payout_id (filled by Stripe only once the payout exists), for payouts the
//   run has no payout reconciliation rows for.
// Each payout of the run — from its payouts report, or, when only the payout reconciliation report was given
// (`recon run --file`), the payout as payout.* events mirrored it (stripe.payouts) — is then compared with the net
// of its linked transactions: a different net or currency is a `payout_mismatch` item. A payout nothing links to
// is listed in summary.json (`payouts`, linkedTransactions 0) but is not a break.
import type { Provider } from '../../ledger/changes.ts';
import type { Sql, Tx } from '../../ledger/db.ts';

export interface PayoutLinkInput {
  provider: Provider;
  account: string;
  businessDate: string;
  runId: string;
}

/** The Stripe ledger kind of a reporting category (payout reconciliation rows keep the category as their status). */
const SETTLEMENT_KIND = `case status when 'charge' then 'payment' when 'payment' then 'payment' when 'refund' then 'refund'
  when 'fee' then 'fee' else 'other' end`;

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
             where run_id = ${runId} and kind not in ('payout', 'settlement') and payout_id is not null
               and reference is not null) lines
     order by reference, source, line_no
    on conflict (provider, account, balance_transaction_id) do update set
      payout_id = excluded.payout_id, business_date = excluded.business_date, run_id = excluded.run_id,
      currency = excluded.currency, kind = excluded.kind, gross_minor = excluded.gross_minor,
      fee_minor = excluded.fee_minor, net_minor = excluded.net_minor`;
  // A payout reconciliation report lists every transaction of its payouts: what it does not list is not theirs.
  await tx`delete from recon_payout_transactions t
            where t.provider = ${provider} and t.account = ${account}
              and t.payout_id in (select payout_id from recon_lines where run_id = ${runId} and kind = 'settlement')
              and not exists (select 1 from recon_lines l where l.run_id = ${runId} and l.kind = 'settlement'
                                 and l.reference = t.balance_transaction_id and l.payout_id = t.payout_id)`;
  // Its rows carry gross and fee as Stripe signs them (refunds negative).
  await tx.unsafe(
    `insert into recon_payout_transactions (provider, account, balance_transaction_id, payout_id, business_date,
       run_id, currency, kind, gross_minor, fee_minor, net_minor)
     select distinct on (reference) $1, $2, reference, payout_id, $3::date, $4, trim(currency), ${SETTLEMENT_KIND},
            amount_minor, fee_scaled, amount_minor - fee_scaled
       from recon_lines where run_id = $4 and kind = 'settlement' and payout_id is not null and reference is not null
      order by reference, source, line_no
     on conflict (provider, account, balance_transaction_id) do update set
       payout_id = excluded.payout_id, business_date = excluded.business_date, run_id = excluded.run_id,
       currency = excluded.currency, kind = excluded.kind, gross_minor = excluded.gross_minor,
       fee_minor = excluded.fee_minor, net_minor = excluded.net_minor`,
    [provider, account, businessDate, runId],
  );
}

/**
 * The run's payouts ($1 run, $3 account): each payout of its payouts report, and each payout only its payout
 * reconciliation rows name, with the amount and currency the stripe.payouts mirror holds (none: not listed).
 */
const RUN_PAYOUTS = `
  with reported as (
    select distinct on (payout_id) payout_id, amount_minor, trim(currency) as currency, source, line_no, fee_scaled,
           fee_scale, occurred_at, status, provider_status
      from recon_lines where run_id = $1 and kind = 'payout' and payout_id is not null
     order by payout_id, source, line_no
  ), settled_only as (
    select distinct on (s.payout_id) s.payout_id, (m.data->>'amount')::bigint as amount_minor,
           upper(m.data->>'currency') as currency, s.source, s.line_no, 0::bigint as fee_scaled, s.fee_scale,
           s.occurred_at, m.status, m.status as provider_status
      from recon_lines s
      join stripe.payouts m on m.id = s.payout_id and m.account = $3 and m.data ? 'amount'
     where s.run_id = $1 and s.kind = 'settlement' and s.payout_id is not null
       and not exists (select 1 from reported r where r.payout_id = s.payout_id)
     order by s.payout_id, s.source, s.line_no
  ), run_payouts as (select * from reported union all select * from settled_only)`;

const ITEM_COLUMNS = `run_id, class, kind, source, line_no, payout_id, bill_amount_minor, ledger_amount_minor,
  bill_currency, ledger_currency, bill_status, fee_scaled, fee_scale, occurred_at, detail, bill_provider_status`;

/**
 * Adds a `payout_mismatch` item for each payout of the run whose linked transactions do not add up. Call after
 * linkPayoutTransactions and after matching (which replaces the run's items). Returns how many it added.
 */
export async function matchPayoutSettlements(tx: Tx, input: PayoutLinkInput): Promise<number> {
  if (input.provider !== 'stripe') return 0;
  const rows = await tx.unsafe(
    `${RUN_PAYOUTS}
     insert into recon_items (${ITEM_COLUMNS})
     select $1, 'payout_mismatch', 'payout', p.source, p.line_no, p.payout_id, p.amount_minor, t.net, p.currency,
            t.currency, p.status, p.fee_scaled, p.fee_scale, p.occurred_at,
            'payout ' || p.amount_minor || ' ' || p.currency || '; its ' || t.n || ' linked balance transactions net '
              || t.net || ' ' || t.currency || ' (difference ' || (p.amount_minor - t.net) || ')',
            p.provider_status
       from run_payouts p
       join lateral (
         select count(*)::int as n, sum(net_minor)::bigint as net, string_agg(distinct trim(currency), '/') as currency
           from recon_payout_transactions t
          where t.provider = $2 and t.account = $3 and t.payout_id = p.payout_id
       ) t on t.n > 0
      where t.net <> p.amount_minor or t.currency <> p.currency
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
  const rows = await sql.unsafe<
    { payout_id: string; currency: string; amount_minor: bigint; n: number; net: bigint }[]
  >(
    `${RUN_PAYOUTS}
     select p.payout_id, p.currency, p.amount_minor, t.n, t.net
       from run_payouts p
       cross join lateral (
         select count(*)::int as n, coalesce(sum(net_minor), 0)::bigint as net from recon_payout_transactions t
          where t.provider = $2 and t.account = $3 and t.payout_id = p.payout_id
       ) t
      order by p.payout_id`,
    [input.runId, input.provider, input.account],
  );
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
