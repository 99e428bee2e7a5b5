// Matching, set-based in SQL: every staged line of a run is classified against the ledger in a few
// `insert … select` statements (no row-by-row work in JS), and ledger objects of the business day that the
// provider did not list become `missing_at_provider` — or `pending_next_bill` inside the midnight tolerance.
// Only what is not a plain match becomes a `recon_items` row: a million-line bill with ten breaks writes ten rows,
// and a plain match is a staged line without an item (view `recon_plain_matches`, migration 0015). Re-running it
// for a run replaces that run's items; healing re-matches only the healed objects' lines (`only`).
import type { Provider } from '../../ledger/changes.ts';
import type { Tx } from '../../ledger/db.ts';
import { recordLineTotals } from './totals.ts';
import type { RunWindow } from './types.ts';

export interface MatchInput {
  runId: string;
  provider: Provider;
  account: string;
  window: RunWindow;
  /** Items that succeeded this close to a midnight may be booked on the neighbouring day (default 10). */
  toleranceMinutes: number;
  /** The latest run of the previous business date, whose pending_next_bill items are due in this bill. */
  previousRunId: string | null;
  /** False: the run's files do not list the day's activity; skip the ledger side (ReconSource.listsDayActivity). */
  checkLedgerSide?: boolean;
}

/**
 * The objects whose bill lines are matched again after healing: kind and the key matching groups lines by
 * (`lineObjectKey`). A healed object is listed in the bill, so its ledger side cannot be `missing_at_provider`:
 * only its lines are re-classified.
 */
export interface MatchKeys {
  kinds: string[];
  keys: string[];
}

const ITEM_COLUMNS = `run_id, class, kind, source, line_no, provider_payment_id, provider_refund_id, merchant_order_no,
  merchant_refund_no, payout_id, bill_amount_minor, ledger_amount_minor, bill_currency, ledger_currency, bill_status,
  ledger_status, fee_scaled, fee_scale, occurred_at, detail, bill_provider_status`;

/** The object a bill line speaks about, as matching groups lines (the first line per object is compared). */
export const lineObjectKey = (alias: string) =>
  `case when ${alias}.kind = 'refund' then coalesce(${alias}.provider_refund_id, ${alias}.merchant_refund_no)
        when ${alias}.kind = 'payout' then ${alias}.payout_id
        else coalesce(${alias}.provider_payment_id, ${alias}.merchant_order_no) end`;

/** Heal candidates' objects, read from their lines (call before re-matching deletes the items). */
export async function healedObjectKeys(
  tx: Tx,
  runId: string,
  classes: readonly string[],
): Promise<MatchKeys> {
  const rows = await tx.unsafe<{ kind: string; key: string }[]>(
    `select distinct l.kind, ${lineObjectKey('l')} as key
       from recon_items i join recon_lines l on l.run_id = i.run_id and l.source = i.source and l.line_no = i.line_no
      where i.run_id = $1 and i.class = any($2::text[]) and ${lineObjectKey('l')} is not null`,
    [runId, classes as string[]],
  );
  return { kinds: rows.map((r) => r.kind), keys: rows.map((r) => r.key) };
}

/** Items per class of a run, plain matches included (lines of a classified kind without an item). */
export async function runCounts(tx: Tx, runId: string): Promise<Record<string, number>> {
  const rows = await tx<{ class: string; n: number }[]>`
    select class, count(*)::int as n from recon_items where run_id = ${runId} group by class
    union all
    select 'matched', count(*)::int from recon_plain_matches where run_id = ${runId}`;
  return countsOf(rows);
}

/**
 * The same counts when matching knows how many lines it classified: the plain matches are those lines less the
 * ones with an item, found through the items (index lookups), not by an anti-join over every line of the run.
 */
async function countsAfterMatching(
  tx: Tx,
  runId: string,
  classified: number,
): Promise<Record<string, number>> {
  const rows = await tx<{ class: string; n: number }[]>`
    select class, count(*)::int as n from recon_items where run_id = ${runId} group by class
    union all
    select 'matched', ${classified}::int - count(*)::int
      from recon_lines l
     where (l.run_id, l.source, l.line_no) in
             (select run_id, source, line_no from recon_items where run_id = ${runId} and source is not null)
       and (l.kind in ('payment', 'refund') or (l.kind = 'payout' and l.source = 'payouts'))`;
  return countsOf(rows);
}

function countsOf(rows: readonly { class: string; n: number }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) if (row.n > 0) counts[row.class] = (counts[row.class] ?? 0) + row.n;
  return counts;
}

/** Re-classifies the bill lines of the given objects (after healing); their old items are replaced. */
export async function rematchObjects(
  tx: Tx,
  input: MatchInput,
  only: MatchKeys,
): Promise<Record<string, number>> {
  if (only.keys.length > 0) {
    // The objects' lines, found from their items: every line of an object with a healable break has an item (the
    // first line its break, later ones `duplicate`), so these are all its lines. Looked up through the items and
    // the primary key, not by scanning the run's lines for the keys: the cost follows the breaks, not the bill.
    const lines = await tx.unsafe<{ source: string; line_no: number }[]>(
      `select distinct l.source, l.line_no
         from recon_items i join recon_lines l on l.run_id = i.run_id and l.source = i.source and l.line_no = i.line_no
        where i.run_id = $1 and (l.kind, ${lineObjectKey('l')}) in (select * from unnest($2::text[], $3::text[]))`,
      [input.runId, only.kinds, only.keys],
    );
    const sources = lines.map((l) => l.source);
    const lineNos = lines.map((l) => String(l.line_no));
    await tx.unsafe(
      `delete from recon_items i
        where i.run_id = $1 and (i.source, i.line_no) in (select * from unnest($2::text[], $3::int[]))`,
      [input.runId, sources, lineNos],
    );
    const selected = `(l.source, l.line_no) in (select * from unnest($3::text[], $4::int[]))`;
    await classifyBillLines(tx, input, { selected, keepMatches: true, params: [sources, lineNos] });
  }
  // Only when healing asked about something. The classified lines are matching's line totals (the lines do not
  // change after the load), so the count goes through the items, not over every line; a run without totals (the
  // unlogged table emptied by a crash) is counted over its lines.
  const classified = await classifiedLineCount(tx, input.runId);
  return classified === null ? runCounts(tx, input.runId) : countsAfterMatching(tx, input.runId, classified);
}

/** The run's lines of the kinds matching classifies, from recon_line_totals; null when the run has no row there. */
async function classifiedLineCount(tx: Tx, runId: string): Promise<number | null> {
  const [row] = await tx<{ groups: number; n: number }[]>`
    select count(*)::int as groups,
           coalesce(sum(n) filter (where kind in ('payment', 'refund') or (kind = 'payout' and payouts)), 0)::int as n
      from recon_line_totals where run_id = ${runId}`;
  return row && row.groups > 0 ? row.n : null;
}

interface LineSelection {
  /** Extra condition on the lines `l` (parameters from $3). */
  selected: string;
  /** Write an item for a plain match too (re-matching after heal notes them). */
  keepMatches: boolean;
  params: string[][];
}

/** Bill lines about payments, refunds and Stripe payouts → items (every class but plain matches, unless kept). */
/** Returns how many lines it classified (payment, refund and payouts.itemized lines of the selection). */
async function classifyBillLines(tx: Tx, input: MatchInput, selection: LineSelection): Promise<number> {
  const { runId, provider } = input;
  const keep = selection.keepMatches ? '' : `where class <> 'matched'`;
  // The object a payment or refund line speaks about (payout lines are ranked by payout_id below).
  const key = `case when l.kind = 'refund' then coalesce(l.provider_refund_id, l.merchant_refund_no)
                    else coalesce(l.provider_payment_id, l.merchant_order_no) end`;
  const objectKey = `case when l.kind = 'payout' then l.payout_id else ${key} end`;
  // Bill lines about payments and refunds. The first line per object is compared; later ones are duplicates.
  // The objects listed more than once come first, from a hash aggregate of the keys alone (a bill rarely has any):
  // only their lines are ranked, not every line sorted with all its columns for a row_number (issue 15). A line
  // without a key groups with the other keyless lines of its kind, as the partition did.
  const lines = `from recon_lines l where l.run_id = $1 and l.kind in ('payment', 'refund') and ${selection.selected}`;
  // The same pass counts the lines classified (payouts.itemized rows too): runCounts' plain matches follow from it.
  const [found] = await tx.unsafe<
    { classified: number; kinds: string[] | null; no_keys: boolean[] | null; obj_keys: string[] | null }[]
  >(
    `select coalesce(sum(n), 0)::int as classified,
            array_agg(kind) filter (where n > 1 and kind <> 'payout') as kinds,
            array_agg(no_key) filter (where n > 1 and kind <> 'payout') as no_keys,
            array_agg(obj_key) filter (where n > 1 and kind <> 'payout') as obj_keys
       from (select l.kind, ${objectKey} is null as no_key, coalesce(${objectKey}, '') as obj_key, count(*) as n
               from recon_lines l
              where l.run_id = $1 and (l.kind in ('payment', 'refund') or (l.kind = 'payout' and l.source = 'payouts'))
                and ${selection.selected} and $2::text is not null
              group by 1, 2, 3) objects`,
    [runId, provider, ...selection.params],
  );
  const repeated = (found?.kinds ?? []).map((kind, i) => ({
    kind,
    no_key: found!.no_keys![i]!,
    obj_key: found!.obj_keys![i]!,
  }));
  const at = 3 + selection.params.length;
  const ranked =
    repeated.length === 0
      ? `ranked as (select l.*, 1::bigint as rn ${lines})`
      : `occurrences as (
       select l.source, l.line_no,
         row_number() over (partition by l.kind, ${key} is null, coalesce(${key}, '') order by l.source, l.line_no) as rn
       ${lines}
         -- The flag as text: a boolean[] parameter does not round-trip through postgres.js here.
         and (l.kind, (${key} is null)::text, coalesce(${key}, ''))
             in (select * from unnest($${at}::text[], $${at + 1}::text[], $${at + 2}::text[]))
     ), ranked as (
       select l.*, coalesce(o.rn, 1) as rn
       from recon_lines l left join occurrences o on o.source = l.source and o.line_no = l.line_no
       where l.run_id = $1 and l.kind in ('payment', 'refund') and ${selection.selected}
     )`;
  const repeatedParams =
    repeated.length === 0
      ? []
      : [repeated.map((r) => r.kind), repeated.map((r) => String(r.no_key)), repeated.map((r) => r.obj_key)];
  await tx.unsafe(
    `with ${ranked}, joined as (
       select r.*,
         coalesce(p.amount_minor, f.amount_minor) as ledger_amount,
         trim(coalesce(p.currency, f.currency)) as ledger_currency,
         coalesce(p.status, f.status) as ledger_status,
         coalesce(r.merchant_order_no, p.merchant_order_no, f.merchant_order_no) as order_no,
         coalesce(r.merchant_refund_no, f.merchant_refund_no) as refund_no,
         coalesce(r.provider_payment_id, f.provider_payment_id) as payment_id,
         (p.provider_payment_id is not null or f.provider_refund_id is not null) as found
       from ranked r
       left join payments p on r.kind = 'payment' and p.provider = $2 and p.provider_payment_id = r.provider_payment_id
       left join refunds f on r.kind = 'refund' and f.provider = $2 and f.provider_refund_id = r.provider_refund_id
     ), classified as (
       select joined.*,
         case when rn > 1 then 'duplicate'
              when not found then 'missing_in_ledger'
              when ledger_currency <> trim(currency) then 'currency_mismatch'
              when ledger_amount <> amount_minor then 'amount_mismatch'
              -- A Stripe refund has its balance transaction from creation on; pending at report time is not a break.
              when $2 = 'stripe' and kind = 'refund' and status = 'succeeded'
                   and ledger_status in ('pending', 'requires_action') then 'pending'
              when ledger_status is distinct from status then 'status_mismatch'
              else 'matched' end as class
       from joined
     )
     insert into recon_items (${ITEM_COLUMNS})
     select $1, class,
       kind, source, line_no, payment_id, provider_refund_id, order_no, refund_no, payout_id,
       amount_minor, ledger_amount, currency, ledger_currency, status, ledger_status, fee_scaled, fee_scale, occurred_at,
       case when rn > 1 then 'listed ' || rn || ' times by the provider; this is occurrence ' || rn
            when not found then null
            when $2 = 'stripe' and kind = 'refund' and status = 'succeeded' and ledger_currency = trim(currency)
                 and ledger_amount = amount_minor and ledger_status in ('pending', 'requires_action')
              then 'refund ' || ledger_status || ' in the ledger when the report ran'
            else nullif(concat_ws('; ',
              case when ledger_currency <> trim(currency) then 'currency ' || trim(currency) || ' at the provider, ' || ledger_currency || ' in the ledger' end,
              case when ledger_amount <> amount_minor then 'amount ' || amount_minor || ' at the provider, ' || ledger_amount || ' in the ledger' end,
              case when ledger_status is distinct from status then 'status ' || coalesce(status, '-') || ' at the provider, ' || coalesce(ledger_status, '-') || ' in the ledger' end
            ), '') end,
       provider_status
     from classified ${keep}`,
    [runId, provider, ...selection.params, ...repeatedParams],
  );

  // Stripe payouts: each payouts.itemized row against the payout mirrored from payout.* events.
  await tx.unsafe(
    `with ranked as (
       select l.*, row_number() over (partition by l.payout_id order by l.source, l.line_no) as rn
       from recon_lines l where l.run_id = $1 and l.kind = 'payout' and l.source = 'payouts' and ${selection.selected}
         and $2::text is not null
     ), joined as (
       select r.*, (sp.data->>'amount')::bigint as ledger_amount, upper(sp.data->>'currency') as ledger_currency,
              sp.status as ledger_status, sp.id is not null as found
       from ranked r left join stripe.payouts sp on sp.id = r.payout_id
     ), classified as (
       select joined.*,
         case when rn > 1 then 'duplicate'
              when not found then 'missing_in_ledger'
              when ledger_currency <> trim(currency) then 'currency_mismatch'
              when ledger_amount <> amount_minor then 'amount_mismatch'
              when ledger_status is distinct from status then 'status_mismatch'
              else 'matched' end as class
       from joined
     )
     insert into recon_items (${ITEM_COLUMNS})
     select $1, class,
       'payout', source, line_no, null, null, null, null, payout_id, amount_minor, ledger_amount, currency,
       ledger_currency, status, ledger_status, fee_scaled, fee_scale, occurred_at, null, provider_status
     from classified ${keep}`,
    [runId, provider, ...selection.params],
  );
  return found?.classified ?? 0;
}

/** Classifies a run's staged lines and the day's ledger objects; returns the number of items per class. */
export async function matchRun(tx: Tx, input: MatchInput): Promise<Record<string, number>> {
  const { runId, provider, account, window } = input;
  const tolerance = Math.max(0, Math.trunc(input.toleranceMinutes));
  await tx`delete from recon_items where run_id = ${runId}`;
  const classified = await classifyBillLines(tx, input, {
    selected: 'true',
    keepMatches: false,
    params: [],
  });
  // The run's lines summed once, for its totals, day totals and class totals (totals.ts).
  await recordLineTotals(tx, runId);
  if (input.checkLedgerSide === false) return countsAfterMatching(tx, runId, classified);

  // Ledger objects of the day the provider did not list. Within the tolerance before midnight: expected in the
  // next day's bill (informational). Within the tolerance before this day's start and left pending by the
  // previous day's run: absent from both bills, so a break now. Within the tolerance after this day's start but
  // listed in the previous day's bill: the provider booked it a few minutes earlier; not a break.
  for (const table of ['payments', 'refunds'] as const) {
    const kind = table === 'payments' ? 'payment' : 'refund';
    const idColumn = table === 'payments' ? 'provider_payment_id' : 'provider_refund_id';
    const refundId = table === 'payments' ? 'null' : 'o.provider_refund_id';
    const refundNo = table === 'payments' ? 'null' : 'o.merchant_refund_no';
    await tx.unsafe(
      `with near_midnight as materialized (
         select o.${idColumn} as id from ${table} o
         where o.provider = $2 and o.account = $3 and o.status = 'succeeded'
           and o.succeeded_at >= $4::timestamptz - make_interval(mins => $6::int)
           and o.succeeded_at < $4::timestamptz + make_interval(mins => $6::int)
       ), listed_the_day_before as materialized (
         -- A hash join of the few objects near midnight with the previous day's lines: no index on provider ids needed.
         select distinct n.id from near_midnight n
         join recon_lines p on p.run_id = $7 and p.kind = '${kind}' and p.${idColumn} = n.id
       )
       insert into recon_items (${ITEM_COLUMNS})
       select $1,
         case when o.succeeded_at >= $5::timestamptz - make_interval(mins => $6::int) and o.succeeded_at >= $4::timestamptz
              then 'pending_next_bill' else 'missing_at_provider' end,
         '${kind}', null, null, o.provider_payment_id, ${refundId}, o.merchant_order_no, ${refundNo}, null, null, o.amount_minor,
         null, trim(o.currency), null, o.status, null, null, o.succeeded_at,
         case when o.succeeded_at < $4::timestamptz then 'succeeded just before the business day and absent from the previous day''s bill too'
              when o.succeeded_at >= $5::timestamptz - make_interval(mins => $6::int) then 'succeeded within ' || $6::int || ' minutes of midnight'
         end,
         null
       from ${table} o
       where o.provider = $2 and o.account = $3 and o.status = 'succeeded'
         and not exists (select 1 from recon_lines l where l.run_id = $1 and l.kind = '${kind}' and l.${idColumn} = o.${idColumn})
         -- Booked by the provider on the previous day (its bill listed it) though the ledger dates it just after midnight.
         and not (o.succeeded_at < $4::timestamptz + make_interval(mins => $6::int)
                  and o.${idColumn} in (select id from listed_the_day_before))
         and (
           (o.succeeded_at >= $4::timestamptz and o.succeeded_at < $5::timestamptz)
           or (o.succeeded_at >= $4::timestamptz - make_interval(mins => $6::int) and o.succeeded_at < $4::timestamptz
               and exists (select 1 from recon_items i where i.run_id = $7 and i.class = 'pending_next_bill'
                           and i.kind = '${kind}' and i.${idColumn} = o.${idColumn}))
         )`,
      [runId, provider, account, window.start, window.end, tolerance, input.previousRunId],
    );
  }

  return countsAfterMatching(tx, runId, classified);
}
