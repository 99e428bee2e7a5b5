// Small statistics and timing helpers: medians over repetitions, percentiles of latencies, ratios.
import type { BenchRow, Target } from './types.ts';

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of an unsorted array. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const now = (): number => performance.now();

/** Runs `fn` `count` times synchronously and returns operations per second. */
export function opsPerSecond(count: number, fn: (i: number) => unknown): number {
  const start = now();
  for (let i = 0; i < count; i++) fn(i);
  return count / ((now() - start) / 1000);
}

export async function opsPerSecondAsync(count: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const start = now();
  for (let i = 0; i < count; i++) await fn(i);
  return count / ((now() - start) / 1000);
}

export function passes(target: Target | null, measured: number, ratio: number | null): boolean | null {
  if (!target) return null;
  const value = target.on === 'ratio' ? ratio : measured;
  if (value === null) return null;
  return target.op === '>=' ? value >= target.value : value <= target.value;
}

/**
 * A row from paired repetitions: each repetition measured both sides back to back, so its ratio compares
 * figures taken under the same machine load; the reported ratio is the median of those ratios.
 */
export function pairedRow(
  id: string,
  unit: string,
  pairs: readonly { measured: number; baseline: number }[],
  target: Target | null,
  notes?: string,
): BenchRow {
  const ratios = pairs.map((p) => p.measured / p.baseline);
  const measured = median(pairs.map((p) => p.measured));
  const ratio = median(ratios);
  return {
    id,
    unit,
    measured,
    baseline: median(pairs.map((p) => p.baseline)),
    ratio,
    target,
    pass: passes(target, measured, ratio),
    samples: ratios,
    ...(notes ? { notes } : {}),
  };
}

/** A row without a baseline (peak RSS, connection count): the median value against an absolute target. */
export function valueRow(
  id: string,
  unit: string,
  values: readonly number[],
  target: Target | null,
  notes?: string,
): BenchRow {
  const measured = target?.op === '<=' ? Math.max(...values) : median(values);
  return {
    id,
    unit,
    measured,
    baseline: null,
    ratio: null,
    target,
    pass: passes(target, measured, null),
    samples: [...values],
    ...(notes ? { notes } : {}),
  };
}

export const ratioAtLeast = (value: number): Target => ({ on: 'ratio', op: '>=', value });
export const ratioAtMost = (value: number): Target => ({ on: 'ratio', op: '<=', value });
export const atMost = (value: number): Target => ({ on: 'measured', op: '<=', value });
export const atLeast = (value: number): Target => ({ on: 'measured', op: '>=', value });

/** Lets timers, sockets and GC settle between the two sides of a pair. */
export async function settle(ms = 50): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}
