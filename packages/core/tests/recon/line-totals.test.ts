// recon_line_totals (migration 0032): the run's totals, day totals and class totals read from the one sum matching
// writes give what the statements over the lines gave (the pre-0032 queries, inline here as the reference), and
// the same again from the lines when the run has no sum (not matched yet, or the unlogged table emptied). Real
// PostgreSQL, lines inserted directly: kinds, statuses (null too), payouts rows, fees, two currencies, an item.
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDayTotals } from '../../src/recon/breaks/day-totals.ts';
import { matchRun } from '../../src/recon/run/matching.ts';
import { classTotals } from '../../src/recon/run/run-repository.ts';
import { loadTotalsRows, recordLineTotals } from '../../src/recon/run/totals.ts';

let db: TestDatabase;
const RUN = 'run-line-totals';
const WINDOW = { start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-03-02T00:00:00Z') };
const DAY = { provider: 'stripe' as const, account: 'acct_1', businessDate: '2025-03-01', runId: RUN };

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`
    insert into recon_lines (run_id, source, line_no, kind, amount_minor, currency, status, fee_scaled, fee_scale)
    select ${RUN}, case when n % 11 = 0 then 'payouts' else 'balance' end, n,
           (array['payment', 'payment', 'refund', 'fee', 'other', 'payout', 'settlement', 'payment'])[1 + n % 8],
           (n * 37) % 1000 - 200, case when n % 3 = 0 then 'EUR' else 'USD' end,
           (array['succeeded', null, 'canceled', 'succeeded', 'pending'])[1 + n % 5],
           n % 7, case when n % 3 = 0 then 2 else 2 end
      from generate_series(1, 400) n`;
  // One line with an item (a break): class totals' plain matches leave it out.
  await db.sql`
    insert into recon_items (run_id, class, kind, source, line_no, bill_amount_minor, bill_currency)
    select run_id, 'amount_mismatch', kind, source, line_no, amount_minor, currency
      from recon_lines where run_id = ${RUN} and line_no = 8`;
});
afterAll(async () => {
  await db?.drop();
});

/** The provider side of loadTotalsRows and the class totals' plain matches before 0032, straight from the lines. */
async function referenceRows() {
  const provider = await db.sql`
    select 'provider' as side, total_kind as kind, trim(currency) as currency, count(*)::int as n,
           sum(amount_minor)::bigint as amount, max(fee_scale)::int as fee_scale, sum(fee_scaled)::bigint as fee
      from (select l.*, case when kind in ('payment', 'refund') and status is distinct from 'succeeded'
                             then kind || ':' || coalesce(status, 'unknown') else kind end as total_kind
              from recon_lines l where run_id = ${RUN}) lines
     group by total_kind, trim(currency) order by 1, 2, 3`;
  const plain = await db.sql`
    select trim(currency) as currency, count(*)::int as count, sum(amount_minor)::int8 as provider_minor
      from recon_plain_matches where run_id = ${RUN} group by 1 order by 1`;
  const day = await db.sql`
    select trim(currency) as currency,
      count(*) filter (where kind = 'payment' and status = 'succeeded')::int as payments,
      count(*) filter (where kind = 'refund' and status = 'succeeded')::int as refunds,
      coalesce(sum(amount_minor) filter (where kind = 'payment' and status = 'succeeded'), 0)::int8 as gross,
      coalesce(sum(fee_scaled), 0)::int8 as fee_scaled,
      coalesce(sum(amount_minor) filter (where kind in ('fee', 'other')), 0)::int8 as other
    from recon_lines where run_id = ${RUN} and kind not in ('payout', 'fund_flow', 'settlement')
    group by 1 order by 1`;
  return { provider, plain, day };
}

async function readRows() {
  const provider = (await loadTotalsRows(db.sql, 'stripe', 'acct_1', RUN, WINDOW)).filter(
    (r) => r.side === 'provider',
  );
  const plain = (await classTotals(db.sql, RUN))
    .filter((t) => t.cls === 'matched')
    .map((t) => ({ currency: t.currency, count: t.count, provider_minor: t.providerMinor }));
  await db.sql.begin((tx) => recordDayTotals(tx, DAY));
  const day = (
    await db.sql`
      select trim(currency) as currency, payments, refunds, gross_minor::int8 as gross, fee_scaled::int8 as fee_scaled,
             other_minor::int8 as other
        from recon_day_totals where run_id = ${RUN} order by 1`
  ).map((r) => ({ ...r }));
  return { provider: provider.map((r) => ({ ...r })), plain, day };
}

describe('recon_line_totals', () => {
  it('gives the same totals as the lines, from the sum and without it', async () => {
    const reference = await referenceRows();
    const plain = (rows: typeof reference) => ({
      provider: rows.provider.map((r) => ({ ...r })),
      plain: rows.plain.map((r) => ({ ...r })),
      day: rows.day.map((r) => ({ ...r })),
    });
    expect(reference.provider.length).toBeGreaterThan(8);
    expect(reference.day).toHaveLength(2);

    // No sum for the run yet: the readers fall back to the lines.
    expect(await readRows()).toEqual(plain(reference));

    await db.sql.begin((tx) => recordLineTotals(tx, RUN));
    const [stored] = await db.sql`select count(*)::int as n from recon_line_totals where run_id = ${RUN}`;
    expect(stored?.n).toBeGreaterThan(8);
    // The readers must read the sum, not the lines: change a line behind the sum's back and the sum still answers.
    await db.sql`update recon_lines set amount_minor = amount_minor + 1 where run_id = ${RUN} and line_no = 1`;
    const fromSum = await readRows();
    await db.sql`update recon_lines set amount_minor = amount_minor - 1 where run_id = ${RUN} and line_no = 1`;
    expect(fromSum).toEqual(plain(reference));

    // Summing again replaces the run's rows (no doubling).
    await db.sql.begin((tx) => recordLineTotals(tx, RUN));
    expect(await readRows()).toEqual(plain(reference));
  });
});

describe('duplicates found by the key aggregate', () => {
  it('ranks repeated objects in bill order, keyless lines together per kind', async () => {
    const run = 'run-duplicates';
    await db.sql`
      insert into recon_lines (run_id, source, line_no, kind, provider_payment_id, amount_minor, currency, status)
      values (${run}, 'trade', 1, 'payment', 'P1', 100, 'CNY', 'succeeded'),
             (${run}, 'trade', 2, 'payment', null, 100, 'CNY', 'succeeded'),
             (${run}, 'trade', 3, 'payment', 'P1', 100, 'CNY', 'succeeded'),
             (${run}, 'trade', 4, 'payment', null, 100, 'CNY', 'succeeded'),
             (${run}, 'trade', 5, 'payment', 'P2', 100, 'CNY', 'succeeded'),
             (${run}, 'trade', 6, 'payment', null, 100, 'CNY', 'succeeded'),
             (${run}, 'trade', 7, 'refund', null, 100, 'CNY', 'succeeded')`;
    const counts = await db.sql.begin((tx) =>
      matchRun(tx, {
        runId: run,
        provider: 'wechatpay',
        account: 'mch',
        window: { ...WINDOW, businessDate: '2025-03-01' } as never,
        toleranceMinutes: 10,
        previousRunId: null,
        checkLedgerSide: false,
      }),
    );
    const items = await db.sql<{ line_no: number; class: string; detail: string | null }[]>`
      select line_no, class, detail from recon_items where run_id = ${run} order by line_no`;
    expect(items.map((i) => [i.line_no, i.class, i.detail])).toEqual([
      [1, 'missing_in_ledger', null],
      [2, 'missing_in_ledger', null],
      [3, 'duplicate', 'listed 2 times by the provider; this is occurrence 2'],
      [4, 'duplicate', 'listed 2 times by the provider; this is occurrence 2'],
      [5, 'missing_in_ledger', null],
      [6, 'duplicate', 'listed 3 times by the provider; this is occurrence 3'],
      [7, 'missing_in_ledger', null],
    ]);
    expect(counts).toEqual({ missing_in_ledger: 4, duplicate: 3 });
  });
});
