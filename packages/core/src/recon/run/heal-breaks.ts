// The heal stage of a run, the same for every provider: for each break where the ledger is behind the provider,
// ask the provider's healer for envelopes, apply them exactly as callbacks are applied (applyEnvelope: inbox row +
// projections in one transaction), re-match the lines of those objects only, and note on each item what healing did. The provider-specific part,
// turning a query answer into envelopes, lives in recon/stripe/healer.ts and recon/wechatpay/healer.ts.
import { applyEnvelope, type EnvelopeNormalizer } from '../../ledger/apply-envelopes.ts';
import type { Sql } from '../../ledger/db.ts';
import { errorFields } from '../../logger.ts';
import type { Logger } from '../../ports.ts';
import { healedObjectKeys, type MatchKeys } from './matching.ts';
import { healCandidates, itemKey, loadItemsByKey, recordHealNote } from './run-repository.ts';
import {
  HEALABLE_CLASSES,
  type HealCandidate,
  type Healer,
  type ItemClass,
  type ReconProgress,
} from './types.ts';

export interface HealDeps {
  sql: Sql;
  logger: Logger;
  healer?: Healer;
  normalizer?: EnvelopeNormalizer;
  onProgress?: (progress: ReconProgress) => void;
}

export interface HealOutcome {
  healed: number;
  failed: number;
  /** The counts after re-matching, when anything was attempted. */
  counts?: Record<string, number>;
}

interface HealAttempt {
  from: ItemClass;
  note: string;
  applied: boolean;
}

/**
 * Heals the run's healable breaks, re-matches the objects it asked about (`rematch` gets their keys), and marks what
 * healing fixed. Returns healed / failed counts.
 */
export async function healBreaks(
  deps: HealDeps,
  runId: string,
  rematch: (objects: MatchKeys) => Promise<Record<string, number>>,
): Promise<HealOutcome> {
  const { healer, normalizer } = deps;
  if (!healer || !normalizer) return { healed: 0, failed: 0 };
  const candidates = await healCandidates(deps.sql, runId);
  if (candidates.length === 0) return { healed: 0, failed: 0 };
  deps.onProgress?.({ stage: 'healing', candidates: candidates.length });
  // Read before re-matching replaces the candidates' items.
  const objects = await deps.sql.begin((tx) => healedObjectKeys(tx, runId, HEALABLE_CLASSES));
  const attempts = new Map<string, HealAttempt>();
  for (const candidate of candidates) {
    attempts.set(itemKey(candidate), await applyHeal(deps, healer, normalizer, runId, candidate));
  }
  const counts = await rematch(objects);
  let healed = 0;
  let failed = 0;
  for (const item of await loadItemsByKey(deps.sql, runId, [...attempts.keys()])) {
    const attempt = attempts.get(itemKey(item));
    if (!attempt) continue;
    const fixed = item.class === 'matched';
    if (fixed) healed += 1;
    else failed += 1;
    const note =
      !fixed && attempt.applied ? `${attempt.note}; still ${item.class} after re-matching` : attempt.note;
    await recordHealNote(deps.sql, runId, item, fixed ? attempt.from : null, note);
  }
  return { healed, failed, counts };
}

/** Queries the provider for one break and applies the answer; a failure is noted, never thrown. */
async function applyHeal(
  deps: HealDeps,
  healer: Healer,
  normalizer: EnvelopeNormalizer,
  runId: string,
  candidate: HealCandidate,
): Promise<HealAttempt> {
  try {
    const envelopes = await healer.envelopes(candidate);
    const outcomes: string[] = [];
    for (const envelope of envelopes) {
      const result = await deps.sql.begin((tx) => applyEnvelope(tx, envelope, normalizer));
      outcomes.push(`${envelope.eventId} ${result.outcome}`);
    }
    return { from: candidate.class, note: `provider query applied as ${outcomes.join(', ')}`, applied: true };
  } catch (error) {
    deps.logger.warn('reconciliation heal failed', { runId, key: itemKey(candidate), ...errorFields(error) });
    return {
      from: candidate.class,
      note: `heal failed: ${error instanceof Error ? error.message : String(error)}`,
      applied: false,
    };
  }
}
