// A run's totals for summary.json and recon_runs.totals: what the provider's files state (every staged line,
// duplicates included) against what the ledger holds as succeeded in the business window, per currency and kind,
// with the difference and the provider's fees.
import type { Provider } from '../../ledger/changes.ts';
import type { Sql, Tx } from '../../ledger/db.ts';
import { minorToDecimal } from '../../money.ts';
import { providerCurrencyExponent } from './report-amounts.ts';
import type { RunWindow } from './types.ts';

/** One aggregate of recon_lines (side provider) or of payments/refunds (side ledger). */
export interface TotalsRow {
  side: 'provider' | 'ledger';
  kind: string;
  currency: string;
  n: number;
  amount: bigint;
  fee_scale: number;
  fee: bigint;
}

export type RunTotals = Record<
  'provider' | 'ledger' | 'difference',
  Record<string, Record<string, unknown>>
> & {
  fees: Record<string, string>;
};

/** recon_line_totals' columns after run_id, as sums over the run's lines (grouped by the first four). */
const LINE_TOTALS_SELECT = `kind, source = 'payouts', trim(currency), status, count(*)::int, sum(amount_minor),
       sum(fee_scaled), max(fee_scale)::int`;

/**
 * CTE `line_totals` (kind, payouts, currency, status, n, amount_minor, fee_scaled, fee_scale): the run's staged lines
 * summed, from recon_line_totals (written by matching), or from the lines themselves when it holds no row for the run.
 * `$1` is the run id.
 */
export const LINE_TOTALS_CTE = `line_totals (kind, payouts, currency, status, n, amount_minor, fee_scaled, fee_scale) as (
    select kind, payouts, currency, status, n, amount_minor, fee_scaled, fee_scale from recon_line_totals where run_id = $1
    union all
    select ${LINE_TOTALS_SELECT} from recon_lines
     where run_id = $1 and not exists (select 1 from recon_line_totals where run_id = $1)
     group by 1, 2, 3, 4)`;

/**
 * Sums the run's staged lines into recon_line_totals, in one pass (matching calls it once the lines are staged):
 * the run's totals, day totals and class totals read these rows, not the lines again.
 */
export async function recordLineTotals(tx: Tx, runId: string): Promise<void> {
  await tx`delete from recon_line_totals where run_id = ${runId}`;
  await tx.unsafe(
    `insert into recon_line_totals (run_id, kind, payouts, currency, status, n, amount_minor, fee_scaled, fee_scale)
     select $1::text, ${LINE_TOTALS_SELECT} from recon_lines where run_id = $1 group by 2, 3, 4, 5`,
    [runId],
  );
}

/** Aggregates the run's staged lines and the ledger's succeeded payments and refunds of the window, in SQL. */
export async function loadTotalsRows(
  sql: Sql,
  provider: Provider,
  account: string,
  runId: string,
  window: Pick<RunWindow, 'start' | 'end'>,
): Promise<TotalsRow[]> {
  const { start, end } = window;
  return sql.unsafe<TotalsRow[]>(
    `with ${LINE_TOTALS_CTE}
    select 'provider' as side, total_kind as kind, currency, sum(n)::int as n,
           sum(amount_minor)::bigint as amount, max(fee_scale)::int as fee_scale, sum(fee_scaled)::bigint as fee
      from (
        -- Only paid payments and settled refunds are "payment" / "refund"; a REVOKED or CLOSED row (or a refund
        -- still processing) is listed apart as e.g. "payment:canceled", so it never inflates what was paid.
        select t.*, case when kind in ('payment', 'refund') and status is distinct from 'succeeded'
                         then kind || ':' || coalesce(status, 'unknown') else kind end as total_kind
          from line_totals t
      ) lines group by total_kind, currency
    union all
    select 'ledger', 'payment', trim(currency), count(*)::int, sum(amount_minor)::bigint, 0, 0
      from payments where provider = $2 and account = $3 and status = 'succeeded'
       and succeeded_at >= $4 and succeeded_at < $5 group by trim(currency)
    union all
    select 'ledger', 'refund', trim(currency), count(*)::int, sum(amount_minor)::bigint, 0, 0
      from refunds where provider = $2 and account = $3 and status = 'succeeded'
       and succeeded_at >= $4 and succeeded_at < $5 group by trim(currency)
    order by 1, 2, 3`,
    [runId, provider, account, start, end],
  );
}

/** Provider vs ledger per currency and kind, their difference (payments and refunds), and fees per currency. */
export function computeTotals(provider: Provider, rows: readonly TotalsRow[]): RunTotals {
  const exponent = (currency: string) => providerCurrencyExponent(provider, currency);
  const out: Record<string, Record<string, Record<string, unknown>>> = {
    provider: {},
    ledger: {},
    difference: {},
  };
  for (const row of rows) {
    const side = out[row.side]!;
    side[row.currency] ??= {};
    const slot = side[row.currency] as Record<string, unknown>;
    slot[row.kind] = {
      count: row.n,
      amountMinor: row.amount,
      amount: minorToDecimal(row.amount, exponent(row.currency)),
      ...(row.side === 'provider' && (row.fee !== 0n || row.fee_scale > 0)
        ? { fee: minorToDecimal(row.fee, row.fee_scale), feeScale: row.fee_scale }
        : {}),
    };
  }
  for (const currency of new Set(rows.map((r) => r.currency))) {
    for (const kind of ['payment', 'refund']) {
      const p = rows.find((r) => r.side === 'provider' && r.kind === kind && r.currency === currency);
      const l = rows.find((r) => r.side === 'ledger' && r.kind === kind && r.currency === currency);
      if (!p && !l) continue;
      const diff = (p?.amount ?? 0n) - (l?.amount ?? 0n);
      out.difference![currency] ??= {};
      (out.difference![currency] as Record<string, unknown>)[kind] = {
        count: (p?.n ?? 0) - (l?.n ?? 0),
        amountMinor: diff,
        amount: minorToDecimal(diff, exponent(currency)),
      };
    }
  }
  // Fees of one currency share one scale per provider (WeChat 5 decimals, Stripe the currency exponent). Settlement
  // lines restate fees their transactions' own day already reported: counting them again would double them.
  const feeSums = new Map<string, { scaled: bigint; scale: number }>();
  for (const row of rows) {
    if (row.side !== 'provider' || row.kind === 'settlement' || (row.fee_scale === 0 && row.fee === 0n))
      continue;
    const sum = feeSums.get(row.currency) ?? { scaled: 0n, scale: row.fee_scale };
    sum.scaled += row.fee;
    feeSums.set(row.currency, sum);
  }
  const fees = Object.fromEntries(
    [...feeSums].map(([currency, sum]) => [currency, minorToDecimal(sum.scaled, sum.scale)]),
  );
  return { ...(out as Omit<RunTotals, 'fees'>), fees };
}

/** The run's totals, read and computed. */
export async function runTotals(
  sql: Sql,
  provider: Provider,
  account: string,
  runId: string,
  window: Pick<RunWindow, 'start' | 'end'>,
): Promise<RunTotals> {
  return computeTotals(provider, await loadTotalsRows(sql, provider, account, runId, window));
}
