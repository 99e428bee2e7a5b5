// One reconciliation run for (provider, account, business date), as its list of stages:
//   claim the date (run-repository.ts) → load every source file into recon_lines (downloaded, verified and spooled
//   first, then COPYed in one transaction, so a file that fails verification stages nothing) → match in SQL
//   (matching.ts) → heal what the ledger lacks and re-match (heal-breaks.ts) → publish the report (report.ts:
//   run-specific files, then the latest.json pointer) → record the run. A failure keeps the downloaded bytes under
//   quarantine/ and publishes nothing.
// No session state, temp tables or advisory locks: everything works through RDS Proxy (design rule 7).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EnvelopeNormalizer } from '../../ledger/apply-envelopes.ts';
import type { Provider } from '../../ledger/changes.ts';
import type { Sql } from '../../ledger/db.ts';
import { errorFields } from '../../logger.ts';
import type { Clock, Logger, ObjectStore } from '../../ports.ts';
import { linkPayoutTransactions, matchPayoutSettlements, payoutSettlements } from '../breaks/payout-links.ts';
import { registerRun } from '../breaks/run-register.ts';
import { breakRefKey, isRegisteredBreak, type RunBreaksOutcome } from '../breaks/sync.ts';
import type { BreakRef } from '../breaks/types.ts';
import { RECON_RUN_CODES, ReconNotReadyError, ReconRunError } from '../errors.ts';
import { businessWindow, refuseFutureBusinessDate } from './dates.ts';
import { healBreaks } from './heal-breaks.ts';
import { type MatchInput, matchRun, rematchObjects } from './matching.ts';
import { breakCounts, publishReport, quarantinePrefix, totalsByClass } from './report.ts';
import { copyMatchedCsv } from './report-copy.ts';
import {
  claimRun,
  classTotals,
  isStillRunning,
  loadReportedItems,
  markFailed,
  markSucceeded,
  previousDaySucceededRunId,
  type RunClaim,
} from './run-repository.ts';
import { copyChunks, copyRecords, copySpooled, spoolChunks, spoolLines, spoolRecords } from './staging.ts';
import { runTotals } from './totals.ts';
import type {
  Healer,
  ReconItem,
  ReconProgress,
  ReconSource,
  RunWindow,
  SourceFile,
  SourceFileEvidence,
} from './types.ts';

export const DEFAULT_TOLERANCE_MINUTES = 10;

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

/** What the stages of one claimed run share; `opened` and `evidence` grow as files are read. */
interface RunContext {
  deps: ReconcileDeps;
  provider: Provider;
  account: string;
  businessDate: string;
  claim: RunClaim;
  window: RunWindow;
  toleranceMinutes: number;
  /** ReconSource.listsDayActivity: false skips the ledger side of matching. */
  listsDayActivity: boolean;
  opened: SourceFile[];
  evidence: SourceFileEvidence[];
}

type Breaks = ReconcileResult['breaks'];

/**
 * Runs (or re-runs) one reconciliation. Never throws for data problems: the result says what happened. A request
 * that cannot be right (a business date in the future) throws ConfigError before anything is claimed.
 */
export async function reconcile(deps: ReconcileDeps, request: ReconcileRequest): Promise<ReconcileResult> {
  const { source, businessDate } = request;
  const { provider, account } = source;
  refuseFutureBusinessDate(provider, businessDate, deps.clock.now());
  const claim = await claimRun(deps.sql, {
    provider,
    account,
    businessDate,
    force: request.force ?? false,
    now: deps.clock.now(),
    ...(deps.newRunId ? { newRunId: deps.newRunId } : {}),
  });
  if ('skipped' in claim) return skipped(deps, { provider, account, businessDate }, claim.skipped);
  const run: RunContext = {
    deps,
    provider,
    account,
    businessDate,
    claim,
    window: businessWindow(provider, businessDate),
    toleranceMinutes: deps.toleranceMinutes ?? DEFAULT_TOLERANCE_MINUTES,
    listsDayActivity: source.listsDayActivity ?? true,
    opened: [],
    evidence: [],
  };
  deps.onProgress?.({ stage: 'claimed', runId: claim.runId, attempt: claim.attempt });
  deps.logger.info('reconciliation started', { ...logFields(run), attempt: claim.attempt });
  try {
    await loadSources(run, source);
    const counts = await matchAndHeal(run);
    return await publishAndRecord(run, counts);
  } catch (error) {
    return await recordFailure(run, error);
  }
}

function skipped(
  deps: ReconcileDeps,
  base: Pick<ReconcileResult, 'provider' | 'account' | 'businessDate'>,
  reason: string,
): ReconcileResult {
  deps.onProgress?.({ stage: 'skipped', reason });
  return { ...base, status: 'skipped', runId: null, reason, counts: {}, breaks: emptyBreaks() };
}

/**
 * Stage 1, load. Every file is first fetched with no transaction open (a Stripe report run may be polled for
 * minutes): a file that can be read from a local copy (SourceFile.prepare, the WeChat Pay bills) is downloaded
 * whole; any other is parsed into a local spool. Then one transaction loads them all: spools by COPY, prepared files
 * parsed and verified while their records stream into the COPY (parse and load on both cores). A file that fails
 * verification, at any point, rolls the transaction back: nothing is staged.
 */
async function loadSources(run: RunContext, source: ReconSource): Promise<void> {
  const { deps, claim } = run;
  const spoolDir = await mkdtemp(path.join(os.tmpdir(), `recon-${claim.runId}-`));
  // Evidence in file order, whichever order the files finish in (spooled ones before the load, prepared ones in it).
  const proofs: (SourceFileEvidence | undefined)[] = [];
  const fileDone = (file: SourceFile, index: number) => {
    const proof = file.evidence();
    proofs[index] = proof;
    run.evidence.splice(0, run.evidence.length, ...proofs.filter((p) => p !== undefined));
    deps.onProgress?.({ stage: 'file-done', name: file.name, rows: proof.rows, empty: proof.empty });
  };
  try {
    const loads: { file: SourceFile; spool?: string }[] = [];
    for await (const file of source.files()) {
      run.opened.push(file);
      deps.onProgress?.({ stage: 'file', name: file.name });
      if (file.prepare && (file.stagedChunks || file.stagingRecords)) {
        await file.prepare();
        loads.push({ file });
        continue;
      }
      const spool = path.join(spoolDir, `${loads.length}.csv`);
      const progress = (lines: number) => deps.onProgress?.({ stage: 'lines', name: file.name, lines });
      await (file.stagedChunks
        ? spoolChunks(file.stagedChunks(claim.runId), spool, progress)
        : file.stagingRecords
          ? spoolRecords(file.stagingRecords(claim.runId), spool, progress)
          : spoolLines(claim.runId, file.lines, spool, progress));
      loads.push({ file, spool });
      fileDone(file, loads.length - 1);
    }
    await deps.sql.begin(async (tx) => {
      for (const [index, { file, spool }] of loads.entries()) {
        if (spool !== undefined) {
          await copySpooled(tx, spool);
          continue;
        }
        const progress = (lines: number) => deps.onProgress?.({ stage: 'lines', name: file.name, lines });
        await (file.stagedChunks
          ? copyChunks(tx, file.stagedChunks(claim.runId), progress)
          : copyRecords(tx, file.stagingRecords!(claim.runId), progress));
        fileDone(file, index);
      }
    });
    // Fresh statistics for the lines just staged: without them the planner takes a million-line run for a few
    // rows and nests loops over it (matched.csv's anti-join probed every item of the run per line). ANALYZE
    // samples a fixed number of rows, so it costs the same for any bill. Through migration 0024's function: the
    // reconciliation role does not own the table, and a plain ANALYZE would be skipped with a warning.
    await deps.sql`select recon_analyze_lines()`;
  } finally {
    await rm(spoolDir, { recursive: true, force: true });
  }
  for (const file of run.opened) await file.dispose();
}

/** Stages 2 and 3: match in SQL, heal the breaks a provider query can fix, re-match. Returns the final counts. */
async function matchAndHeal(run: RunContext): Promise<Record<string, number>> {
  const { deps, provider, account, businessDate, claim } = run;
  const previousRunId = await previousDaySucceededRunId(deps.sql, provider, account, businessDate);
  const input: MatchInput = {
    runId: claim.runId,
    provider,
    account,
    window: run.window,
    toleranceMinutes: run.toleranceMinutes,
    previousRunId,
    checkLedgerSide: run.listsDayActivity,
  };
  const payoutRun = { provider, account, businessDate, runId: claim.runId };
  const counts = (await deps.sql.begin(async (tx) => {
    const counts = await matchRun(tx, input);
    // Stripe: link balance transactions to their payouts, and flag payouts whose transactions do not add up.
    await linkPayoutTransactions(tx, payoutRun);
    const payoutMismatches = await matchPayoutSettlements(tx, payoutRun);
    return payoutMismatches > 0 ? { ...counts, payout_mismatch: payoutMismatches } : counts;
  })) as Record<string, number>;
  deps.onProgress?.({ stage: 'matched', counts });
  // Healing changes the ledger only for the objects it asked about: only their lines are matched again.
  const healing = await healBreaks(deps, claim.runId, (objects) =>
    deps.sql.begin((tx) => rematchObjects(tx, input, objects)),
  );
  if (healing.healed + healing.failed > 0)
    deps.onProgress?.({ stage: 'healed', healed: healing.healed, failed: healing.failed });
  return healing.counts ?? counts;
}

/** Stage 4: write the report, flip latest.json, and mark the run succeeded while it still holds its claim. */
async function publishAndRecord(run: RunContext, counts: Record<string, number>): Promise<ReconcileResult> {
  const { deps, provider, account, businessDate, claim, window } = run;
  const { runId } = claim;
  const items = await loadReportedItems(deps.sql, runId);
  const breaks = breakCounts(items);
  const totals = await runTotals(deps.sql, provider, account, runId, window);
  // Breaks get their identity across runs (and the day its gross / fees / net) before the report is written.
  const register = await registerRun(deps.sql, {
    provider,
    account,
    businessDate,
    runId,
    now: deps.clock.now(),
  });
  const breakRefs = (item: ReconItem) => register.refs.get(breakRefKey(item));
  const finishedAt = deps.clock.now();
  const summary = {
    provider,
    account,
    businessDate,
    timezone: provider === 'wechatpay' ? 'Asia/Shanghai' : 'UTC',
    window: { start: window.start.toISOString(), end: window.end.toISOString() },
    toleranceMinutes: run.toleranceMinutes,
    run: { runId, attempt: claim.attempt, generatedAt: finishedAt.toISOString() },
    sourceFiles: run.evidence,
    counts,
    breaks,
    totalsByClass: totalsByClass(provider, await classTotals(deps.sql, runId)),
    totals,
    money: register.money,
    payouts: await payoutSettlements(deps.sql, { provider, account, businessDate, runId }),
    lifecycle: lifecycleSummary(items, breakRefs, register.outcome),
  };
  const published = await publishReport({
    store: deps.store,
    provider,
    account,
    businessDate,
    runId,
    summary,
    items,
    breakRefs,
    // Straight from the join by COPY TO STDOUT, no row through JavaScript (report-copy.ts).
    writeMatched: (file) => copyMatchedCsv(deps.sql, provider, runId, file),
    counts,
    unhealedBreaks: breaks.unhealed,
    now: finishedAt,
    stillCurrent: () => isStillRunning(deps.sql, runId),
  });
  if (!published)
    throw new ReconRunError(
      RECON_RUN_CODES.superseded,
      `run ${runId} was superseded by a newer run; nothing published`,
    );
  const reportKeys = { pointerKey: published.pointerKey, files: published.files };
  const marked = await markSucceeded(deps.sql, runId, {
    finishedAt,
    evidence: run.evidence,
    counts,
    totals,
    unhealedBreaks: breaks.unhealed,
    reportKeys,
  });
  // Only a stale run can be taken over; if that happened meanwhile, this run must not claim success.
  if (!marked)
    throw new ReconRunError(RECON_RUN_CODES.takenOver, `run ${runId} was taken over while publishing`);
  deps.onProgress?.({ stage: 'published', keys: [...Object.values(published.files), published.pointerKey] });
  deps.logger.info('reconciliation succeeded', { ...logFields(run), counts, ...breaks });
  return { provider, account, businessDate, status: 'succeeded', runId, counts, breaks, reportKeys };
}

/** Any stage failed: keep what was downloaded (evidence, never published), mark the run failed, say why. */
async function recordFailure(run: RunContext, error: unknown): Promise<ReconcileResult> {
  const { deps, provider, account, businessDate, claim } = run;
  const code = (error as { code?: unknown }).code;
  const failure = {
    code: typeof code === 'string' ? code : error instanceof Error ? error.name : 'Error',
    message: error instanceof Error ? error.message : String(error),
  };
  const notReady = error instanceof ReconNotReadyError;
  const keptFiles = notReady ? [] : await quarantineDownloads(run);
  for (const file of run.opened) await file.dispose().catch(() => {});
  await markFailed(deps.sql, claim.runId, {
    finishedAt: deps.clock.now(),
    ...failure,
    evidence: run.evidence,
  });
  (notReady ? deps.logger.warn : deps.logger.error).call(deps.logger, 'reconciliation failed', {
    ...logFields(run),
    keptFiles,
    ...errorFields(error),
  });
  deps.onProgress?.({ stage: 'failed', error: failure.message });
  return {
    provider,
    account,
    businessDate,
    status: notReady ? 'not_ready' : 'failed',
    runId: claim.runId,
    counts: {},
    breaks: emptyBreaks(),
    error: failure,
    keptFiles,
  };
}

/** Copies every opened file's downloaded bytes under the run's quarantine/ prefix; returns the keys. */
async function quarantineDownloads(run: RunContext): Promise<string[]> {
  const prefix = quarantinePrefix(run.provider, run.account, run.businessDate, run.claim.runId);
  const keptFiles: string[] = [];
  for (const file of run.opened) {
    for (const kept of await file.kept().catch(() => [])) {
      const key = `${prefix}${kept.name}`;
      await run.deps.store.put(key, kept.body, 'application/octet-stream');
      keptFiles.push(key);
    }
  }
  return keptFiles;
}

function logFields(run: RunContext) {
  return {
    provider: run.provider,
    account: run.account,
    businessDate: run.businessDate,
    runId: run.claim.runId,
  };
}

/**
 * summary.json → lifecycle: how many breaks of the report are in each state, what this run changed in the
 * register, and each break's id, age (days since first seen, at this run's date) and state.
 */
function lifecycleSummary(
  items: readonly ReconItem[],
  refOf: (item: ReconItem) => BreakRef | undefined,
  outcome: RunBreaksOutcome,
) {
  const byState: Record<string, number> = { open: 0, healed: 0, resolved: 0, written_off: 0 };
  const seen = new Set<bigint>();
  const breaks: { breakId: string; class: string; objectKey: string; ageDays: number; state: string }[] = [];
  for (const item of items) {
    const ref = isRegisteredBreak(item) ? refOf(item) : undefined;
    if (!ref || seen.has(ref.breakId)) continue;
    seen.add(ref.breakId);
    byState[ref.state] = (byState[ref.state] ?? 0) + 1;
    const [cls, objectKey] = breakRefKey(item).split('|') as [string, string];
    breaks.push({
      breakId: ref.breakId.toString(),
      class: cls,
      objectKey,
      ageDays: ref.ageDays,
      state: ref.state,
    });
  }
  return { byState, changes: outcome, breaks };
}

function emptyBreaks(): Breaks {
  return { total: 0, healed: 0, unhealed: 0, informational: 0 };
}
