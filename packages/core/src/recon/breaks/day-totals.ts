// Gross, fees and net of a run's business date per currency (recon_day_totals), from the provider's own lines:
// paid payments, settled refunds, other signed balance changes (Stripe fees billed apart, disputes, adjustments)
// and the fees exactly as stated. Payout lines (money leaving the balance) and WeChat Pay fund-flow lines (a
// second view of the same money) are left out. Replaced by every run of the date.
import type { Provider } from '../../ledger/changes.ts';
import type { Sql, Tx } from '../../ledger/db.ts';
import { LINE_TOTALS_CTE } from '../run/totals.ts';
import { type DayTotalsRow, dayMoney } from './queries.ts';
import type { DayMoney } from './types.ts';

export async function recordDayTotals(
  tx: Tx,
  input: { provider: Provider; account: string; businessDate: string; runId: string },
): Promise<void> {
  const { provider, account, businessDate, runId } = input;
  await tx`delete from recon_day_totals where provider = ${provider} and account = ${account} and business_date = ${businessDate}`;
  // From the run's line totals (one pass over its lines, by matching), not another scan of the lines.
  await tx.unsafe(
    `with ${LINE_TOTALS_CTE}
    insert into recon_day_totals (provider, account, business_date, currency, run_id, payments, refunds, gross_minor,
      refunds_minor, fee_scaled, fee_scale, other_minor)
    select $2::text, $3::text, $4::date, currency, $1::text,
      coalesce(sum(n) filter (where kind = 'payment' and status = 'succeeded'), 0)::int,
      coalesce(sum(n) filter (where kind = 'refund' and status = 'succeeded'), 0)::int,
      coalesce(sum(amount_minor) filter (where kind = 'payment' and status = 'succeeded'), 0),
      coalesce(sum(amount_minor) filter (where kind = 'refund' and status = 'succeeded'), 0),
      coalesce(sum(fee_scaled), 0), coalesce(max(fee_scale), 0),
      coalesce(sum(amount_minor) filter (where kind in ('fee', 'other')), 0)
    from line_totals
    where kind not in ('payout', 'fund_flow', 'settlement')
    group by currency`,
    [runId, provider, account, businessDate],
  );
}

/** The date's gross, fees and net per currency. */
export async function readDayMoney(
  sql: Sql | Tx,
  input: { provider: Provider; account: string; businessDate: string },
): Promise<DayMoney[]> {
  const rows = await sql<DayTotalsRow[]>`
    select provider, account, to_char(business_date, 'YYYY-MM-DD') as business_date, trim(currency) as currency,
           payments, refunds, gross_minor, refunds_minor, fee_scaled, fee_scale, other_minor
      from recon_day_totals
     where provider = ${input.provider} and account = ${input.account} and business_date = ${input.businessDate}
     order by currency`;
  return rows.map((row) => dayMoney(input.provider, row));
}
