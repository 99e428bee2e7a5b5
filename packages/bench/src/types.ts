// Result shapes shared by every case: one row per figure, each a measured value against a baseline measured in
// the same run on the same machine, so the ratio (not the absolute number) is what carries between machines.

export type Comparison = '>=' | '<=';

export interface Target {
  /** `ratio` compares measured/baseline; `measured` compares the measured value itself (peak RSS, connections). */
  on: 'ratio' | 'measured';
  op: Comparison;
  value: number;
}

export interface BenchRow {
  /** Case number and figure, e.g. `2 stripe req/s`. */
  id: string;
  unit: string;
  /** Median over the repetitions. */
  measured: number;
  /** Median over the repetitions; null when the figure has no baseline (peak RSS, connections). */
  baseline: number | null;
  /** Median of the per-repetition ratios measured/baseline (null without a baseline). */
  ratio: number | null;
  target: Target | null;
  /** null when the row has no target (for the record only). */
  pass: boolean | null;
  /** Every repetition's ratio (or value), for the spread. */
  samples: number[];
  notes?: string;
}

export interface CaseResult {
  case: number;
  title: string;
  /** What the measured side and the baseline include — and what they leave out. */
  measuredIncludes: string;
  baselineIncludes: string;
  rows: BenchRow[];
  details: Record<string, unknown>;
  durationMs: number;
}

export interface CaseOptions {
  quick: boolean;
  /** Smallest sizes that still exercise every stage (smoke test). */
  tiny: boolean;
  /** Admin URL of a PostgreSQL server the case may create databases on. */
  pgAdminUrl: string;
  log: (line: string) => void;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: {
    node: string;
    platform: string;
    arch: string;
    cpus: number;
    cpuModel: string;
    totalMemoryMb: number;
  };
  mode: 'full' | 'quick' | 'tiny';
  postgres: string;
  cases: CaseResult[];
}
