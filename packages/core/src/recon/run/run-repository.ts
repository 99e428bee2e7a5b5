// The SQL of a run's lifecycle: claiming the recon_runs row for (provider, account, business date), reading the
// items matching wrote to recon_items (for healing and for the report), and recording how the run ended.
// Plain statements only: no session state, temp tables or advisory locks, so everything works through RDS Proxy.
import { randomUUID } from 'node:crypto';
import type { Provider } from '../../ledger/changes.ts';
import type { Sql } from '../../ledger/db.ts';
import { addDays, businessWindow } from './dates.ts';
import type { ClassTotal } from './report.ts';
import { LINE_TOTALS_CTE } from './totals.ts';
import {
  HEALABLE_CLASSES,
  type HealCandidate,
  type ItemClass,
  type LineKind,
  type ReconItem,
  type SourceFileEvidence,
} from './types.ts';

/** A run still `running` after this long is presumed dead (Lambda timeout is 15 minutes) and may be taken over. */
export const STALE_RUN_MINUTES = 20;

/** The date this run owns now; `previousRunId` is the attempt it replaced (or itself, on a takeover of its id). */
export interface RunClaim {
  runId: string;
  attempt: number;
  previousRunId: string | null;
}

export interface ClaimRequest {
  provider: Provider;
  account: string;
  businessDate: string;
  force: boolean;
  now: Date;
  newRunId?: () => string;
}

/**
 * Claims the date with one conditional upsert: a failed run is retried, a succeeded one only when forced, a running
 * one only once it is stale. Returns why not otherwise. The replaced attempt loses its staging rows and items; its
 * report stays published until the new one flips latest.json.
 */
export async function claimRun(sql: Sql, request: ClaimRequest): Promise<RunClaim | { skipped: string }> {
  const { provider, account, businessDate, force, now } = request;
  const runId = request.newRunId?.() ?? `${businessDate.replaceAll('-', '')}-${randomUUID().slice(0, 12)}`;
  const window = businessWindow(provider, businessDate);
  const staleBefore = new Date(now.getTime() - STALE_RUN_MINUTES * 60_000);
  const rows = await sql<{ run_id: string; attempt: number; previous_run_id: string | null }[]>`
    with previous as (
      select run_id from recon_runs where provider = ${provider} and account = ${account} and business_date = ${businessDate}
    )
    insert into recon_runs as r (provider, account, business_date, run_id, status, started_at, window_start, window_end)
    values (${provider}, ${account}, ${businessDate}, ${runId}, 'running', ${now}, ${window.start}, ${window.end})
    on conflict (provider, account, business_date) do update set
      run_id = excluded.run_id, attempt = r.attempt + 1, status = 'running', started_at = excluded.started_at,
      finished_at = null, source_files = '[]', counts = '{}', totals = '{}', unhealed_breaks = null,
      error_code = null, error = null
    where r.status = 'failed'
       or (r.status = 'succeeded' and ${force})
       or (r.status = 'running' and r.started_at < ${staleBefore})
    returning run_id, attempt, (select run_id from previous) as previous_run_id`;
  const claimed = rows[0];
  if (!claimed) {
    const [current] = await sql<{ status: string; run_id: string }[]>`
      select status, run_id from recon_runs where provider = ${provider} and account = ${account} and business_date = ${businessDate}`;
    return {
      skipped:
        current?.status === 'succeeded'
          ? `already reconciled (run ${current.run_id}); use force to re-run`
          : `run ${current?.run_id ?? '?'} is in progress`,
    };
  }
  if (claimed.previous_run_id && claimed.previous_run_id !== claimed.run_id) {
    await sql`delete from recon_lines where run_id = ${claimed.previous_run_id}`;
    await sql`delete from recon_items where run_id = ${claimed.previous_run_id}`;
    await sql`delete from recon_line_totals where run_id = ${claimed.previous_run_id}`;
  }
  return { runId: claimed.run_id, attempt: claimed.attempt, previousRunId: claimed.previous_run_id };
}

/** The run of the day before that succeeded, if any: matching settles its pending_next_bill items. */
export async function previousDaySucceededRunId(
  sql: Sql,
  provider: Provider,
  account: string,
  businessDate: string,
): Promise<string | null> {
  const [previous] = await sql<{ run_id: string }[]>`
    select run_id from recon_runs where provider = ${provider} and account = ${account}
      and business_date = ${addDays(businessDate, -1)} and status = 'succeeded'`;
  return previous?.run_id ?? null;
}

/** True while the run still holds its claim (no newer run took the date over). */
export async function isStillRunning(sql: Sql, runId: string): Promise<boolean> {
  return (await sql`select 1 from recon_runs where run_id = ${runId} and status = 'running'`).length === 1;
}

export interface RunSuccess {
  finishedAt: Date;
  evidence: SourceFileEvidence[];
  counts: Record<string, number>;
  totals: unknown;
  unhealedBreaks: number;
  reportKeys: { pointerKey: string; files: Record<string, string> };
}

/** Marks the run succeeded; false when it no longer holds its claim (it must then not claim success). */
export async function markSucceeded(sql: Sql, runId: string, success: RunSuccess): Promise<boolean> {
  const totalsJson = JSON.parse(
    JSON.stringify(success.totals, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
  );
  // The run's success and the report index (recon_reports, what GET /reports reads) change in one statement.
  const marked = await sql`
    with marked as (
      update recon_runs set status = 'succeeded', finished_at = ${success.finishedAt}, source_files = ${sql.json(success.evidence as never)},
        counts = ${sql.json(success.counts)}, totals = ${sql.json(totalsJson)},
        unhealed_breaks = ${success.unhealedBreaks}, report_keys = ${sql.json(success.reportKeys)}
      where run_id = ${runId} and status = 'running'
      returning provider, account, business_date, run_id, finished_at, unhealed_breaks, counts, report_keys
    ), indexed as (
      insert into recon_reports (provider, account, business_date, run_id, published_at, unhealed_breaks, counts,
        pointer_key, files)
      select provider, account, business_date, run_id, finished_at, unhealed_breaks, counts,
             report_keys->>'pointerKey', report_keys->'files' from marked
      on conflict (provider, account, business_date) do update set
        run_id = excluded.run_id, published_at = excluded.published_at, unhealed_breaks = excluded.unhealed_breaks,
        counts = excluded.counts, pointer_key = excluded.pointer_key, files = excluded.files
      returning 1
    )
    select 1 from marked`;
  return marked.length > 0;
}

export interface RunFailure {
  finishedAt: Date;
  code: string;
  message: string;
  evidence: SourceFileEvidence[];
}

export async function markFailed(sql: Sql, runId: string, failure: RunFailure): Promise<void> {
  await sql`
    update recon_runs set status = 'failed', finished_at = ${failure.finishedAt}, error_code = ${failure.code},
      error = ${failure.message}, source_files = ${sql.json(failure.evidence as never)}
    where run_id = ${runId}`;
}

interface ItemRow {
  class: ItemClass;
  kind: LineKind;
  source: string | null;
  line_no: number | null;
  provider_payment_id: string | null;
  provider_refund_id: string | null;
  merchant_order_no: string | null;
  merchant_refund_no: string | null;
  payout_id: string | null;
  bill_amount_minor: bigint | null;
  ledger_amount_minor: bigint | null;
  bill_currency: string | null;
  ledger_currency: string | null;
  bill_status: string | null;
  bill_provider_status: string | null;
  ledger_status: string | null;
  fee_scaled: bigint | null;
  fee_scale: number | null;
  occurred_at: Date | null;
  detail: string | null;
  healed_from: ItemClass | null;
  heal_note: string | null;
}

const REPORT_ORDER =
  'order by class, kind, source nulls last, line_no nulls last, provider_payment_id, provider_refund_id, id';

/** The items breaks.csv lists: every break, healed ones and informational ones (a small share of a run). */
export async function loadReportedItems(sql: Sql, runId: string): Promise<ReconItem[]> {
  const rows = await sql.unsafe<ItemRow[]>(
    `select * from recon_items where run_id = $1 and (class <> 'matched' or healed_from is not null) ${REPORT_ORDER}`,
    [runId],
  );
  return rows.map(toItem);
}

/** The identity of an item across re-matching: kind and the most specific provider id (kind:id). */
export const itemKey = (c: {
  kind: string;
  providerPaymentId: string | null;
  providerRefundId: string | null;
  payoutId: string | null;
}) => `${c.kind}:${c.providerRefundId ?? c.payoutId ?? c.providerPaymentId ?? ''}`;

/** The items of the given keys (see itemKey), e.g. the ones a heal touched. */
export async function loadItemsByKey(sql: Sql, runId: string, keys: readonly string[]): Promise<ReconItem[]> {
  if (keys.length === 0) return [];
  const rows = await sql.unsafe<ItemRow[]>(
    `select * from recon_items where run_id = $1
       and kind || ':' || coalesce(provider_refund_id, payout_id, provider_payment_id, '') = any($2::text[])`,
    [runId, keys as string[]],
  );
  return rows.map(toItem);
}

// A plain match is a staged line without an item (recon_plain_matches): its ledger side equals its bill side by
// definition, so only the ids the bill may lack are looked up in the ledger, and only when the line lacks them
// (COALESCE evaluates a sub-select only when the line's own value is null). `provider`: a SQL expression of the
// run's provider; `healedFrom`: of the column healed_from.
export const plainMatchColumns = (
  provider: string,
  healedFrom = 'null::text',
) => `'matched' as class, l.kind, l.source, l.line_no,
  case when l.kind = 'payout' then null
       else coalesce(l.provider_payment_id, case when l.kind = 'refund' then
         (select f.provider_payment_id from refunds f where f.provider = ${provider} and f.provider_refund_id = l.provider_refund_id) end)
  end as provider_payment_id,
  case when l.kind = 'payout' then null else l.provider_refund_id end as provider_refund_id,
  case when l.kind = 'payout' then null
       else coalesce(l.merchant_order_no, case
         when l.kind = 'payment' then (select p.merchant_order_no from payments p where p.provider = ${provider} and p.provider_payment_id = l.provider_payment_id)
         else (select f.merchant_order_no from refunds f where f.provider = ${provider} and f.provider_refund_id = l.provider_refund_id) end)
  end as merchant_order_no,
  case when l.kind = 'refund' then coalesce(l.merchant_refund_no,
         (select f.merchant_refund_no from refunds f where f.provider = ${provider} and f.provider_refund_id = l.provider_refund_id))
       when l.kind = 'payout' then null else l.merchant_refund_no end as merchant_refund_no,
  l.payout_id, l.amount_minor as bill_amount_minor, l.amount_minor as ledger_amount_minor, l.currency as bill_currency,
  l.currency as ledger_currency, l.status as bill_status, l.provider_status as bill_provider_status,
  l.status as ledger_status, l.fee_scaled, l.fee_scale::smallint as fee_scale, l.occurred_at, null::text as detail,
  ${healedFrom} as healed_from, null::text as heal_note`;

export const PLAIN_MATCH_COLUMNS = plainMatchColumns('r.provider');

export const ITEM_MATCH_COLUMNS = `class, kind, source, line_no, provider_payment_id, provider_refund_id, merchant_order_no,
  merchant_refund_no, payout_id, bill_amount_minor, ledger_amount_minor, bill_currency, ledger_currency, bill_status,
  bill_provider_status, ledger_status, fee_scaled, fee_scale, occurred_at, detail, healed_from, heal_note`;

/**
 * Matched lines in bill order — plain matches straight from the staged lines, healed ones from their items — as one
 * query read through a cursor, a page at a time. One query, not keyset pages: each page re-planned the anti-join
 * of recon_plain_matches and sorted what was left, so matched.csv took most of a run (session 5's profile).
 */
export async function* matchedItemPages(
  sql: Sql,
  runId: string,
  pageSize = 10_000,
): AsyncGenerator<ReconItem[]> {
  const cursor = sql
    .unsafe<ItemRow[]>(
      `select * from (
         select ${PLAIN_MATCH_COLUMNS}
           from recon_plain_matches l join recon_runs r on r.run_id = l.run_id
          where l.run_id = $1
         union all
         select ${ITEM_MATCH_COLUMNS} from recon_items
          where run_id = $1 and class = 'matched' and source is not null
       ) m order by source, line_no`,
      [runId],
    )
    .cursor(pageSize);
  for await (const rows of cursor) yield rows.map(toItem);
}

/**
 * Counts and amounts per class and currency, aggregated in the database. Plain matches: the run's line totals of the
 * kinds matching classifies, less the classified lines that have an item (found through the items), not an anti-join
 * over every line of the run.
 */
export async function classTotals(sql: Sql, runId: string): Promise<ClassTotal[]> {
  const rows = await sql.unsafe<
    { cls: string; currency: string; count: number; provider_minor: bigint; ledger_minor: bigint }[]
  >(
    `with ${LINE_TOTALS_CTE}
    select cls, currency, sum(n)::int as count, sum(provider_minor)::int8 as provider_minor,
           sum(ledger_minor)::int8 as ledger_minor
    from (
      select case when class = 'matched' and healed_from is not null then healed_from || ' (healed)' else class end as cls,
             coalesce(trim(bill_currency), trim(ledger_currency), '---') as currency, count(*) as n,
             coalesce(sum(bill_amount_minor), 0) as provider_minor, coalesce(sum(ledger_amount_minor), 0) as ledger_minor
      from recon_items where run_id = $1 group by 1, 2
      union all
      select 'matched', currency, sum(n), sum(amount_minor), sum(amount_minor)
      from (
        select currency, n, amount_minor from line_totals
         where kind in ('payment', 'refund') or (kind = 'payout' and payouts)
        union all
        select trim(l.currency), -count(*), -sum(l.amount_minor)
          from recon_lines l
         where (l.run_id, l.source, l.line_no) in
                 (select run_id, source, line_no from recon_items where run_id = $1 and source is not null)
           and (l.kind in ('payment', 'refund') or (l.kind = 'payout' and l.source = 'payouts'))
         group by 1
      ) plain group by currency having sum(n) > 0
    ) t group by 1, 2 order by 1, 2`,
    [runId],
  );
  return rows.map((r) => ({
    cls: r.cls,
    currency: r.currency,
    count: r.count,
    providerMinor: r.provider_minor,
    ledgerMinor: r.ledger_minor,
  }));
}

/**
 * The run's distinct breaks that a provider query can fix, with the sub-account of the bill line they came from
 * (a WeChat Pay service provider's 特约商户号: its sub-merchants' orders are asked through the partner queries).
 */
export async function healCandidates(sql: Sql, runId: string): Promise<HealCandidate[]> {
  return sql<HealCandidate[]>`
    select distinct i.class, i.kind, i.provider_payment_id as "providerPaymentId",
      i.provider_refund_id as "providerRefundId", i.merchant_order_no as "merchantOrderNo",
      i.merchant_refund_no as "merchantRefundNo", i.payout_id as "payoutId", l.sub_account as "subAccount"
    from recon_items i
      left join recon_lines l on l.run_id = i.run_id and l.source = i.source and l.line_no = i.line_no
    where i.run_id = ${runId} and i.class in ${sql(HEALABLE_CLASSES as string[])}`;
}

/** Records on an item (after re-matching) what healing did: `healedFrom` is set only when it is now matched. */
export async function recordHealNote(
  sql: Sql,
  runId: string,
  item: ReconItem,
  healedFrom: ItemClass | null,
  note: string,
): Promise<void> {
  await sql`
    update recon_items set healed_from = ${healedFrom}, heal_note = ${note}
    where run_id = ${runId} and kind = ${item.kind} and class = ${item.class}
      and coalesce(provider_refund_id, payout_id, provider_payment_id, '') =
          ${item.providerRefundId ?? item.payoutId ?? item.providerPaymentId ?? ''}`;
}

function toItem(r: ItemRow): ReconItem {
  return {
    class: r.class,
    kind: r.kind,
    source: r.source,
    lineNo: r.line_no,
    providerPaymentId: r.provider_payment_id,
    providerRefundId: r.provider_refund_id,
    merchantOrderNo: r.merchant_order_no,
    merchantRefundNo: r.merchant_refund_no,
    payoutId: r.payout_id,
    billAmountMinor: r.bill_amount_minor,
    ledgerAmountMinor: r.ledger_amount_minor,
    billCurrency: r.bill_currency?.trim() ?? null,
    ledgerCurrency: r.ledger_currency?.trim() ?? null,
    billStatus: r.bill_status,
    billProviderStatus: r.bill_provider_status ?? null,
    ledgerStatus: r.ledger_status,
    feeScaled: r.fee_scaled,
    feeScale: r.fee_scale,
    occurredAt: r.occurred_at,
    detail: r.detail,
    healedFrom: r.healed_from,
    healNote: r.heal_note,
  };
}
