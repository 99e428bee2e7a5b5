// What a run tells the break register (recon_breaks), set-based in SQL so a bad day with many breaks costs a few
// statements: every break the run found is upserted under its identity (provider, account, class, object key) and
// keeps its id and first-seen date; its sighting for the run's business date is refreshed; the breaks an earlier
// run of the same date found and this one does not are closed (state healed, closed_by_run) once no other date
// still sees them. Resolved and written-off breaks stay so when found again (`redetected`); a healed one found
// again is `reopened`. Every change is an event in recon_break_events with actor `run:<run id>`.
import type { Provider } from '../../ledger/changes.ts';
import type { Tx } from '../../ledger/db.ts';
import { BREAK_CLASSES, type ReconItem } from '../run/types.ts';
import type { BreakRef, BreakState } from './types.ts';

/** The object key of an item, in SQL over recon_items columns (must equal breakObjectKey). */
export const OBJECT_KEY_SQL =
  "kind || ':' || coalesce(provider_refund_id, payout_id, provider_payment_id, merchant_refund_no, merchant_order_no, '')";

/** kind:id with the most specific provider id: the object a break is about. */
export function breakObjectKey(item: {
  kind: string;
  providerRefundId: string | null;
  payoutId: string | null;
  providerPaymentId: string | null;
  merchantRefundNo: string | null;
  merchantOrderNo: string | null;
}): string {
  return `${item.kind}:${
    item.providerRefundId ??
    item.payoutId ??
    item.providerPaymentId ??
    item.merchantRefundNo ??
    item.merchantOrderNo ??
    ''
  }`;
}

/** The class a break has in the register: a healed item keeps the class it had before healing. */
export function breakClassOf(item: Pick<ReconItem, 'class' | 'healedFrom'>): string {
  return item.healedFrom ?? item.class;
}

/** The items of a run that are breaks in the register: every break class, and healed ones. */
export function isRegisteredBreak(item: Pick<ReconItem, 'class' | 'healedFrom'>): boolean {
  return (item.class === 'matched' && item.healedFrom !== null) || BREAK_CLASSES.includes(item.class);
}

export interface RunBreaksInput {
  provider: Provider;
  account: string;
  businessDate: string;
  runId: string;
  now: Date;
}

export interface RunBreaksOutcome {
  /** Breaks first detected by this run. */
  detected: number;
  /** Breaks this run found that were known before. */
  refound: number;
  /** Breaks of this date that this run no longer found and closed. */
  closed: number;
  /** Resolved or written-off breaks this run found again (they stay as they were). */
  redetected: number;
  reopened: number;
}

const ITEM_JSON = `jsonb_build_object(
  'class', class, 'healedFrom', healed_from, 'kind', kind, 'source', source, 'lineNo', line_no,
  'providerPaymentId', provider_payment_id, 'providerRefundId', provider_refund_id, 'payoutId', payout_id,
  'merchantOrderNo', merchant_order_no, 'merchantRefundNo', merchant_refund_no,
  'billAmountMinor', bill_amount_minor::text, 'billCurrency', trim(bill_currency), 'billStatus', bill_status,
  'billProviderStatus', bill_provider_status, 'ledgerAmountMinor', ledger_amount_minor::text,
  'ledgerCurrency', trim(ledger_currency), 'ledgerStatus', ledger_status, 'feeScaled', fee_scaled::text,
  'feeScale', fee_scale, 'occurredAt', occurred_at, 'detail', detail, 'healNote', heal_note)`;

/**
 * Records the run's breaks in the register (call inside a transaction, after matching and healing). Returns what
 * changed. A second call for the same run changes nothing more.
 */
export async function recordRunBreaks(tx: Tx, input: RunBreaksInput): Promise<RunBreaksOutcome> {
  const { provider, account, businessDate, runId, now } = input;
  const actor = `run:${runId}`;
  const [found] = await tx.unsafe<
    { detected: number; refound: number; redetected: number; reopened: number }[]
  >(
    `with found as (
       select distinct on (cls, object_key) *
         from (select i.*, coalesce(i.healed_from, i.class) as cls, ${OBJECT_KEY_SQL} as object_key,
                      (i.class = 'matched' and i.healed_from is not null) as healed_now, ${ITEM_JSON} as item
                 from recon_items i
                where i.run_id = $1 and (i.class = any($5::text[]) or (i.class = 'matched' and i.healed_from is not null))
              ) x
        order by cls, object_key, healed_now, coalesce(source, ''), coalesce(line_no, 0), id
     ), upserted as (
       insert into recon_breaks as b (provider, account, class, kind, object_key, provider_payment_id, provider_refund_id,
         payout_id, merchant_order_no, merchant_refund_no, provider_currency, provider_amount_minor, ledger_currency,
         ledger_amount_minor, first_seen_date, first_seen_run, first_seen_at, last_seen_date, last_seen_run, last_seen_at,
         state, closed_by_run, closed_at, item, updated_at)
       select $2, $3, cls, kind, object_key, provider_payment_id, provider_refund_id, payout_id, merchant_order_no,
              merchant_refund_no, trim(bill_currency), bill_amount_minor, trim(ledger_currency), ledger_amount_minor,
              $4::date, $1, $6::timestamptz, $4::date, $1, $6::timestamptz,
              case when healed_now then 'healed' else 'open' end,
              case when healed_now then $1 end, case when healed_now then $6::timestamptz end, item, $6::timestamptz
         from found order by cls, object_key
       on conflict (provider, account, class, object_key) do update set
         kind = excluded.kind, provider_payment_id = excluded.provider_payment_id,
         provider_refund_id = excluded.provider_refund_id, payout_id = excluded.payout_id,
         merchant_order_no = excluded.merchant_order_no, merchant_refund_no = excluded.merchant_refund_no,
         provider_currency = excluded.provider_currency, provider_amount_minor = excluded.provider_amount_minor,
         ledger_currency = excluded.ledger_currency, ledger_amount_minor = excluded.ledger_amount_minor,
         item = excluded.item, state_before_run = b.state,
         first_seen_run = case when excluded.first_seen_date < b.first_seen_date then excluded.first_seen_run else b.first_seen_run end,
         first_seen_at = case when excluded.first_seen_date < b.first_seen_date then excluded.first_seen_at else b.first_seen_at end,
         first_seen_date = least(b.first_seen_date, excluded.first_seen_date),
         last_seen_run = case when excluded.last_seen_date >= b.last_seen_date then excluded.last_seen_run else b.last_seen_run end,
         last_seen_at = case when excluded.last_seen_date >= b.last_seen_date then excluded.last_seen_at else b.last_seen_at end,
         last_seen_date = greatest(b.last_seen_date, excluded.last_seen_date),
         -- Resolved and written-off breaks never reopen silently; a healed one found broken again does.
         state = case when b.state in ('resolved', 'written_off') then b.state
                      when b.state = 'healed' and excluded.state = 'healed' then 'healed'
                      else excluded.state end,
         closed_by_run = case when b.state in ('resolved', 'written_off') then b.closed_by_run
                              when excluded.state = 'healed' and b.state = 'healed' then b.closed_by_run
                              else excluded.closed_by_run end,
         closed_at = case when b.state in ('resolved', 'written_off') then b.closed_at
                          when excluded.state = 'healed' and b.state = 'healed' then b.closed_at
                          else excluded.closed_at end,
         updated_at = case when b.state is distinct from (case when b.state in ('resolved', 'written_off') then b.state
                                                                when b.state = 'healed' and excluded.state = 'healed' then 'healed'
                                                                else excluded.state end)
                           then excluded.updated_at else b.updated_at end
       returning b.id, b.class, b.object_key, b.state, b.state_before_run as before
     ), changes as (
       select u.id, u.state, u.before, f.healed_now, f.heal_note, f.detail
         from upserted u join found f on f.cls = u.class and f.object_key = u.object_key
     ), events as (
       insert into recon_break_events (break_id, at, actor, action, note, from_state, to_state, run_id)
       select id, $6::timestamptz, $7, action, note, from_state, to_state, $1
         from (
           select id, 1 as seq, 'detected' as action, detail as note, null as from_state, 'open' as to_state
             from changes where before is null
           union all
           select id, 2, 'healed', heal_note, 'open', 'healed'
             from changes where healed_now and (before is null or before = 'open')
           union all
           select id, 2, 'reopened', 'found again by the run of ' || $4, 'healed', 'open'
             from changes where before = 'healed' and not healed_now
           union all
           select id, 2, 'redetected', 'found again by the run of ' || $4 || case when healed_now then ' (healed in that run)' else '' end,
                  before, before
             from changes where before in ('resolved', 'written_off')
         ) e
        order by id, seq
       returning action
     ), sightings as (
       insert into recon_break_sightings (break_id, provider, account, business_date, run_id, seen_at, healed_in_run, heal_note)
       select id, $2, $3, $4::date, $1, $6::timestamptz, healed_now, heal_note from changes
       on conflict (break_id, business_date) do update set run_id = excluded.run_id, seen_at = excluded.seen_at,
         healed_in_run = excluded.healed_in_run, heal_note = excluded.heal_note, gone_run = null, gone_at = null
       returning 1
     )
     select (select count(*)::int from changes where before is null) as detected,
            (select count(*)::int from changes where before is not null) as refound,
            (select count(*)::int from events where action = 'redetected') as redetected,
            (select count(*)::int from events where action = 'reopened') as reopened,
            (select count(*)::int from sightings) as sighted`,
    [runId, provider, account, businessDate, BREAK_CLASSES as string[], now, actor],
  );

  // Breaks an earlier run of this date saw and this one did not: gone from this date; closed when no other date
  // still sees them unhealed.
  const [gone] = await tx.unsafe<{ closed: number }[]>(
    `with gone as (
       update recon_break_sightings s set gone_run = $1, gone_at = $5::timestamptz
        where s.provider = $2 and s.account = $3 and s.business_date = $4::date and s.run_id <> $1 and s.gone_run is null
       returning s.break_id
     ), closable as (
       select b.id from recon_breaks b join gone g on g.break_id = b.id
        where b.state = 'open'
          and not exists (select 1 from recon_break_sightings o
                           where o.break_id = b.id and o.business_date <> $4::date and o.gone_run is null and not o.healed_in_run)
          for update of b
     ), closed as (
       update recon_breaks b set state = 'healed', closed_by_run = $1, closed_at = $5::timestamptz, updated_at = $5::timestamptz
         from closable c where b.id = c.id
       returning b.id
     ), events as (
       insert into recon_break_events (break_id, at, actor, action, note, from_state, to_state, run_id)
       select id, $5::timestamptz, $6, 'closed', 'no longer found by the run of ' || $4, 'open', 'healed', $1
         from closed order by id
       returning 1
     )
     select count(*)::int as closed from events`,
    [runId, provider, account, businessDate, now, actor],
  );
  return {
    detected: found?.detected ?? 0,
    refound: found?.refound ?? 0,
    redetected: found?.redetected ?? 0,
    reopened: found?.reopened ?? 0,
    closed: gone?.closed ?? 0,
  };
}

/**
 * The register's id, age (days from first seen to this run's date) and state of each break the run found, keyed
 * by `breakRefKey`: what breaks.csv and summary.json show beside each row.
 */
export async function runBreakRefs(
  tx: Tx,
  input: Pick<RunBreaksInput, 'provider' | 'account' | 'businessDate' | 'runId'>,
): Promise<Map<string, BreakRef>> {
  const rows = await tx<{ id: bigint; class: string; object_key: string; age: number; state: BreakState }[]>`
    select b.id, b.class, b.object_key, greatest(0, ${input.businessDate}::date - b.first_seen_date)::int as age, b.state
      from recon_break_sightings s join recon_breaks b on b.id = s.break_id
     where s.provider = ${input.provider} and s.account = ${input.account}
       and s.business_date = ${input.businessDate} and s.run_id = ${input.runId}`;
  return new Map(
    rows.map((r) => [`${r.class}|${r.object_key}`, { breakId: r.id, ageDays: r.age, state: r.state }]),
  );
}

/** The key of an item in runBreakRefs' map. */
export function breakRefKey(item: ReconItem): string {
  return `${breakClassOf(item)}|${breakObjectKey(item)}`;
}
