// One reconciliation run for (provider, account, business date):
//   claim the recon_runs row (a conditional upsert: a succeeded date is a no-op unless forced; a running one is
//   left alone unless it is stale) → load every source file into recon_lines with COPY inside one transaction
//   (rolled back when verification fails at the end of a file; the downloaded bytes are then kept under
//   quarantine/ and nothing is published) → match in SQL → heal what the ledger lacks through applyEnvelope and
//   re-match → publish the report (run-specific files, then the latest.json pointer) → record the run.
// No session state, temp tables or advisory locks: everything works through RDS Proxy (design rule 7).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { applyEnvelope, type EnvelopeNormalizer } from '../../ledger/apply-envelopes.ts';
import type { Provider } from '../../ledger/changes.ts';
import type { Sql } from '../../ledger/db.ts';
import { errorFields } from '../../logger.ts';
import { currencyExponent, minorToDecimal } from '../../money.ts';
import type { Clock, Logger, ObjectStore } from '../../ports.ts';
import { stripeCurrencyExponent } from '../stripe/report-format.ts';
import { addDays, businessWindow } from './dates.ts';
import type { HealCandidate, Healer } from './heal.ts';
import { matchRun } from './matching.ts';
import { breakCounts, type ClassTotal, publishReport, quarantinePrefix, totalsByClass } from './report.ts';
import { ReconNotReadyError } from './sources.ts';
import { copySpooled, spoolLines } from './staging.ts';
import {
  HEALABLE_CLASSES,
  type ItemClass,
  type LineKind,
  type ReconItem,
  type ReconProgress,
  type ReconSource,
  type SourceFile,
  type SourceFileEvidence,
} from './types.ts';

export const DEFAULT_TOLERANCE_MINUTES = 10;
/** A run still `running` after this long is presumed dead (Lambda timeout is 15 minutes) and may be taken over. */
export const STALE_RUN_MINUTES = 20;

export interface ReconcileDeps {
  sql: Sql;
  store: ObjectStore;
  clock: Clock;
  logger: Logger;
  /** The consumer's normalizer for the provider: healed envelopes take exactly the callbacks' path. */
  normalizer?: EnvelopeNormalizer;
  healer?: Healer;
  toleranceMinutes?: number;
  onProgress?: (progress: ReconProgress) => void;
  newRunId?: () => string;
}

export interface ReconcileRequest {
  source: ReconSource;
  businessDate: string;
  /** Re-run a date that already succeeded (replaces its report). */
  force?: boolean;
}

export interface ReconcileResult {
  status: 'succeeded' | 'failed' | 'skipped' | 'not_ready';
  provider: Provider;
  account: string;
  businessDate: string;
  runId: string | null;
  reason?: string;
  counts: Record<string, number>;
  breaks: { total: number; healed: number; unhealed: number; informational: number };
  reportKeys?: { pointerKey: string; files: Record<string, string> };
  keptFiles?: string[];
  error?: { code: string; message: string };
}

export class ReconRunError extends Error {}

interface Claim {
  runId: string;
  attempt: number;
  previousRunId: string | null;
}

async function claimRun(
  deps: ReconcileDeps,
  provider: Provider,
  account: string,
  businessDate: string,
  force: boolean,
): Promise<Claim | { skipped: string }> {
  const runId = deps.newRunId?.() ?? `${businessDate.replaceAll('-', '')}-${randomUUID().slice(0, 12)}`;
  const now = deps.clock.now();
  const window = businessWindow(provider, businessDate);
  const staleBefore = new Date(now.getTime() - STALE_RUN_MINUTES * 60_000);
  const rows = await deps.sql<{ run_id: string; attempt: number; previous_run_id: string | null }[]>`
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
    const [current] = await deps.sql<{ status: string; run_id: string }[]>`
      select status, run_id from recon_runs where provider = ${provider} and account = ${account} and business_date = ${businessDate}`;
    return {
      skipped:
        current?.status === 'succeeded'
          ? `already reconciled (run ${current.run_id}); use force to re-run`
          : `run ${current?.run_id ?? '?'} is in progress`,
    };
  }
  // The attempt being replaced: its staging rows and items go; its report stays published until the new one flips.
  if (claimed.previous_run_id && claimed.previous_run_id !== claimed.run_id) {
    await deps.sql`delete from recon_lines where run_id = ${claimed.previous_run_id}`;
    await deps.sql`delete from recon_items where run_id = ${claimed.previous_run_id}`;
  }
  return { runId: claimed.run_id, attempt: claimed.attempt, previousRunId: claimed.previous_run_id };
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

/** The items of the given keys (kind:id), e.g. the ones a heal touched. */
async function loadItemsByKey(sql: Sql, runId: string, keys: readonly string[]): Promise<ReconItem[]> {
  if (keys.length === 0) return [];
  const rows = await sql.unsafe<ItemRow[]>(
    `select * from recon_items where run_id = $1
       and kind || ':' || coalesce(provider_refund_id, payout_id, provider_payment_id, '') = any($2::text[])`,
    [runId, keys as string[]],
  );
  return rows.map(toItem);
}

/** Matched items in bill order, a page at a time (keyset on source, line, id: index recon_items_report_order). */
export async function* matchedItemPages(
  sql: Sql,
  runId: string,
  pageSize = 5000,
): AsyncGenerator<ReconItem[]> {
  let after: { source: string; line: number; id: bigint } | undefined;
  for (;;) {
    const rows = after
      ? await sql<(ItemRow & { id: bigint })[]>`
          select * from recon_items where run_id = ${runId} and class = 'matched'
            and (coalesce(source, ''), coalesce(line_no, 0), id) > (${after.source}, ${after.line}, ${after.id})
          order by coalesce(source, ''), coalesce(line_no, 0), id limit ${pageSize}`
      : await sql<(ItemRow & { id: bigint })[]>`
          select * from recon_items where run_id = ${runId} and class = 'matched'
          order by coalesce(source, ''), coalesce(line_no, 0), id limit ${pageSize}`;
    if (rows.length === 0) return;
    yield rows.map(toItem);
    const last = rows[rows.length - 1]!;
    after = { source: last.source ?? '', line: last.line_no ?? 0, id: last.id };
  }
}

/** Counts and amounts per class and currency, aggregated in the database. */
async function classTotals(sql: Sql, runId: string): Promise<ClassTotal[]> {
  const rows = await sql<
    { cls: string; currency: string; count: number; provider_minor: bigint; ledger_minor: bigint }[]
  >`
    select case when class = 'matched' and healed_from is not null then healed_from || ' (healed)' else class end as cls,
           coalesce(trim(bill_currency), trim(ledger_currency), '---') as currency, count(*)::int as count,
           coalesce(sum(bill_amount_minor), 0)::int8 as provider_minor, coalesce(sum(ledger_amount_minor), 0)::int8 as ledger_minor
    from recon_items where run_id = ${runId} group by 1, 2 order by 1, 2`;
  return rows.map((r) => ({
    cls: r.cls,
    currency: r.currency,
    count: r.count,
    providerMinor: r.provider_minor,
    ledgerMinor: r.ledger_minor,
  }));
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
    ledgerStatus: r.ledger_status,
    feeScaled: r.fee_scaled,
    feeScale: r.fee_scale,
    occurredAt: r.occurred_at,
    detail: r.detail,
    healedFrom: r.healed_from,
    healNote: r.heal_note,
  };
}

const itemKey = (c: {
  kind: string;
  providerPaymentId: string | null;
  providerRefundId: string | null;
  payoutId: string | null;
}) => `${c.kind}:${c.providerRefundId ?? c.payoutId ?? c.providerPaymentId ?? ''}`;

/** Heals the run's healable breaks, re-matches, and marks what healing fixed. Returns healed / failed counts. */
async function heal(
  deps: ReconcileDeps,
  runId: string,
  rematch: () => Promise<Record<string, number>>,
): Promise<{ healed: number; failed: number; counts?: Record<string, number> }> {
  const { healer, normalizer } = deps;
  if (!healer || !normalizer) return { healed: 0, failed: 0 };
  const candidates = await deps.sql<(Omit<HealCandidate, 'class'> & { class: ItemClass })[]>`
    select distinct class, kind, provider_payment_id as "providerPaymentId", provider_refund_id as "providerRefundId",
      merchant_order_no as "merchantOrderNo", merchant_refund_no as "merchantRefundNo", payout_id as "payoutId"
    from recon_items where run_id = ${runId} and class in ${deps.sql(HEALABLE_CLASSES as string[])}`;
  if (candidates.length === 0) return { healed: 0, failed: 0 };
  deps.onProgress?.({ stage: 'healing', candidates: candidates.length });
  const notes = new Map<string, { from: ItemClass; note: string; applied: boolean }>();
  for (const candidate of candidates) {
    const key = itemKey(candidate);
    try {
      const envelopes = await healer.envelopes(candidate);
      const outcomes: string[] = [];
      for (const envelope of envelopes) {
        const result = await deps.sql.begin((tx) => applyEnvelope(tx, envelope, normalizer));
        outcomes.push(`${envelope.eventId} ${result.outcome}`);
      }
      notes.set(key, {
        from: candidate.class,
        note: `provider query applied as ${outcomes.join(', ')}`,
        applied: true,
      });
    } catch (error) {
      const fields = errorFields(error);
      deps.logger.warn('reconciliation heal failed', { runId, key, ...fields });
      notes.set(key, {
        from: candidate.class,
        note: `heal failed: ${error instanceof Error ? error.message : String(error)}`,
        applied: false,
      });
    }
  }
  const counts = await rematch();
  let healed = 0;
  let failed = 0;
  for (const item of await loadItemsByKey(deps.sql, runId, [...notes.keys()])) {
    const note = notes.get(itemKey(item));
    if (!note) continue;
    const fixed = item.class === 'matched';
    if (fixed) healed += 1;
    else failed += 1;
    const text = fixed
      ? note.note
      : note.applied
        ? `${note.note}; still ${item.class} after re-matching`
        : note.note;
    await deps.sql`
      update recon_items set healed_from = ${fixed ? note.from : null}, heal_note = ${text}
      where run_id = ${runId} and kind = ${item.kind} and class = ${item.class}
        and coalesce(provider_refund_id, payout_id, provider_payment_id, '') =
            ${item.providerRefundId ?? item.payoutId ?? item.providerPaymentId ?? ''}`;
  }
  return { healed, failed, counts };
}

interface TotalsRow {
  side: 'provider' | 'ledger';
  kind: string;
  currency: string;
  n: number;
  amount: bigint;
  fee_scale: number;
  fee: bigint;
}

/** Provider totals (every staged line, duplicates included, as the provider states them) vs ledger totals. */
async function totals(sql: Sql, provider: Provider, account: string, runId: string, start: Date, end: Date) {
  const rows = await sql<TotalsRow[]>`
    select 'provider' as side, kind, trim(currency) as currency, count(*)::int as n, sum(amount_minor)::bigint as amount,
           max(fee_scale)::int as fee_scale, sum(fee_scaled)::bigint as fee
      from recon_lines where run_id = ${runId} group by kind, trim(currency)
    union all
    select 'ledger', 'payment', trim(currency), count(*)::int, sum(amount_minor)::bigint, 0, 0
      from payments where provider = ${provider} and account = ${account} and status = 'succeeded'
       and succeeded_at >= ${start} and succeeded_at < ${end} group by trim(currency)
    union all
    select 'ledger', 'refund', trim(currency), count(*)::int, sum(amount_minor)::bigint, 0, 0
      from refunds where provider = ${provider} and account = ${account} and status = 'succeeded'
       and succeeded_at >= ${start} and succeeded_at < ${end} group by trim(currency)
    order by 1, 2, 3`;
  const exponent = (currency: string) =>
    provider === 'stripe' ? stripeCurrencyExponent(currency) : currencyExponent(currency);
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
  // Fees of one currency share one scale per provider (WeChat 5 decimals, Stripe the currency exponent).
  const feeSums = new Map<string, { scaled: bigint; scale: number }>();
  for (const row of rows) {
    if (row.side !== 'provider' || (row.fee_scale === 0 && row.fee === 0n)) continue;
    const sum = feeSums.get(row.currency) ?? { scaled: 0n, scale: row.fee_scale };
    sum.scaled += row.fee;
    feeSums.set(row.currency, sum);
  }
  const fees = Object.fromEntries(
    [...feeSums].map(([currency, sum]) => [currency, minorToDecimal(sum.scaled, sum.scale)]),
  );
  return { ...out, fees };
}

function emptyBreaks() {
  return { total: 0, healed: 0, unhealed: 0, informational: 0 };
}

/** Runs (or re-runs) one reconciliation. Never throws for data problems: the result says what happened. */
export async function reconcile(deps: ReconcileDeps, request: ReconcileRequest): Promise<ReconcileResult> {
  const { source, businessDate } = request;
  const { provider, account } = source;
  const base = { provider, account, businessDate };
  const claim = await claimRun(deps, provider, account, businessDate, request.force ?? false);
  if ('skipped' in claim) {
    deps.onProgress?.({ stage: 'skipped', reason: claim.skipped });
    return {
      ...base,
      status: 'skipped',
      runId: null,
      reason: claim.skipped,
      counts: {},
      breaks: emptyBreaks(),
    };
  }
  const { runId } = claim;
  deps.onProgress?.({ stage: 'claimed', runId, attempt: claim.attempt });
  const log = { provider, account, businessDate, runId };
  deps.logger.info('reconciliation started', { ...log, attempt: claim.attempt });
  const window = businessWindow(provider, businessDate);
  const opened: SourceFile[] = [];
  const evidence: SourceFileEvidence[] = [];
  try {
    // 1. Load. Download, verify and parse every file into a local spool first, with no transaction open (a Stripe
    // report run may be polled for minutes); then COPY all spools in one transaction, so a failure stages nothing.
    const spoolDir = await mkdtemp(path.join(os.tmpdir(), `recon-${runId}-`));
    try {
      const spools: string[] = [];
      for await (const file of source.files()) {
        opened.push(file);
        deps.onProgress?.({ stage: 'file', name: file.name });
        const spool = path.join(spoolDir, `${spools.length}.csv`);
        await spoolLines(runId, file.lines, spool, (lines) =>
          deps.onProgress?.({ stage: 'lines', name: file.name, lines }),
        );
        spools.push(spool);
        const proof = file.evidence();
        evidence.push(proof);
        deps.onProgress?.({ stage: 'file-done', name: file.name, rows: proof.rows, empty: proof.empty });
      }
      await deps.sql.begin(async (tx) => {
        for (const spool of spools) await copySpooled(tx, spool);
      });
    } finally {
      await rm(spoolDir, { recursive: true, force: true });
    }
    for (const file of opened) await file.dispose();

    // 2. Match, 3. heal + re-match.
    const [previous] = await deps.sql<{ run_id: string }[]>`
      select run_id from recon_runs where provider = ${provider} and account = ${account}
        and business_date = ${addDays(businessDate, -1)} and status = 'succeeded'`;
    const match = () =>
      deps.sql.begin((tx) =>
        matchRun(tx, {
          runId,
          provider,
          account,
          window,
          toleranceMinutes: deps.toleranceMinutes ?? DEFAULT_TOLERANCE_MINUTES,
          previousRunId: previous?.run_id ?? null,
        }),
      );
    let counts = await match();
    deps.onProgress?.({ stage: 'matched', counts });
    const healing = await heal(deps, runId, match);
    if (healing.counts) counts = healing.counts;
    if (healing.healed + healing.failed > 0)
      deps.onProgress?.({ stage: 'healed', healed: healing.healed, failed: healing.failed });

    // 4. Report.
    const items = await loadReportedItems(deps.sql, runId);
    const breaks = breakCounts(items);
    const ledgerTotals = await totals(deps.sql, provider, account, runId, window.start, window.end);
    const finishedAt = deps.clock.now();
    const summary = {
      provider,
      account,
      businessDate,
      timezone: provider === 'wechatpay' ? 'Asia/Shanghai' : 'UTC',
      window: { start: window.start.toISOString(), end: window.end.toISOString() },
      toleranceMinutes: deps.toleranceMinutes ?? DEFAULT_TOLERANCE_MINUTES,
      run: { runId, attempt: claim.attempt, generatedAt: finishedAt.toISOString() },
      sourceFiles: evidence,
      counts,
      breaks,
      totalsByClass: totalsByClass(provider, await classTotals(deps.sql, runId)),
      totals: ledgerTotals,
    };
    const published = await publishReport({
      store: deps.store,
      provider,
      account,
      businessDate,
      runId,
      summary,
      items,
      matchedPages: matchedItemPages(deps.sql, runId),
      counts,
      unhealedBreaks: breaks.unhealed,
      now: finishedAt,
      stillCurrent: async () =>
        (await deps.sql`select 1 from recon_runs where run_id = ${runId} and status = 'running'`).length ===
        1,
    });
    if (!published) throw new ReconRunError(`run ${runId} was superseded by a newer run; nothing published`);
    const reportKeys = { pointerKey: published.pointerKey, files: published.files };
    const marked = await deps.sql`
      update recon_runs set status = 'succeeded', finished_at = ${finishedAt}, source_files = ${deps.sql.json(evidence as never)},
        counts = ${deps.sql.json(counts)}, totals = ${deps.sql.json(JSON.parse(JSON.stringify(ledgerTotals, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))))},
        unhealed_breaks = ${breaks.unhealed}, report_keys = ${deps.sql.json(reportKeys)}
      where run_id = ${runId} and status = 'running'
      returning 1`;
    // Only a stale run can be taken over; if that happened meanwhile, this run must not claim success.
    if (marked.length === 0) throw new ReconRunError(`run ${runId} was taken over while publishing`);
    deps.onProgress?.({
      stage: 'published',
      keys: [...Object.values(published.files), published.pointerKey],
    });
    deps.logger.info('reconciliation succeeded', { ...log, counts, ...breaks });
    return { ...base, status: 'succeeded', runId, counts, breaks, reportKeys };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const failure = {
      code: typeof code === 'string' ? code : error instanceof Error ? error.name : 'Error',
      message: error instanceof Error ? error.message : String(error),
    };
    // Keep what was downloaded: a file that failed verification is evidence, never published.
    const keptFiles: string[] = [];
    if (!(error instanceof ReconNotReadyError)) {
      const prefix = quarantinePrefix(provider, account, businessDate, runId);
      for (const file of opened) {
        for (const kept of await file.kept().catch(() => [])) {
          const key = `${prefix}${kept.name}`;
          await deps.store.put(key, kept.body, 'application/octet-stream');
          keptFiles.push(key);
        }
      }
    }
    for (const file of opened) await file.dispose().catch(() => {});
    await deps.sql`
      update recon_runs set status = 'failed', finished_at = ${deps.clock.now()}, error_code = ${failure.code},
        error = ${failure.message}, source_files = ${deps.sql.json(evidence as never)}
      where run_id = ${runId}`;
    const notReady = error instanceof ReconNotReadyError;
    (notReady ? deps.logger.warn : deps.logger.error).call(deps.logger, 'reconciliation failed', {
      ...log,
      keptFiles,
      ...errorFields(error),
    });
    deps.onProgress?.({ stage: 'failed', error: failure.message });
    return {
      ...base,
      status: notReady ? 'not_ready' : 'failed',
      runId,
      counts: {},
      breaks: emptyBreaks(),
      error: failure,
      keptFiles,
    };
  }
}
