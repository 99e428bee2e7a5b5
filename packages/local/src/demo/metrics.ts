// Reading the local stack's in-memory metric tallies by metric name and dimensions. MemoryMetrics keys each tally
// as `Name{key=value,…}`; this is the one place that knows that spelling.

/** What the demo reads: a MemoryMetrics (or anything holding its tallies). */
export interface MetricTallies {
  readonly counts: ReadonlyMap<string, number>;
}

export interface MetricCount {
  name: string;
  dimensions: Readonly<Record<string, string>>;
  value: number;
}

function parseKey(key: string): { name: string; dimensions: Record<string, string> } {
  const open = key.indexOf('{');
  if (open < 0 || !key.endsWith('}')) return { name: key, dimensions: {} };
  const dimensions: Record<string, string> = {};
  for (const pair of key.slice(open + 1, -1).split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) dimensions[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { name: key.slice(0, open), dimensions };
}

/** Each tally of the metric whose dimensions include all of `where`, in the order they were first counted. */
export function countsOf(
  metrics: MetricTallies,
  name: string,
  where: Readonly<Record<string, string>> = {},
): MetricCount[] {
  const out: MetricCount[] = [];
  for (const [key, value] of metrics.counts) {
    const parsed = parseKey(key);
    if (parsed.name !== name) continue;
    if (Object.entries(where).every(([k, v]) => parsed.dimensions[k] === v)) out.push({ ...parsed, value });
  }
  return out;
}

/** The metric's total over every tally whose dimensions include all of `where`. */
export function countOf(
  metrics: MetricTallies,
  name: string,
  where: Readonly<Record<string, string>> = {},
): number {
  return countsOf(metrics, name, where).reduce((sum, count) => sum + count.value, 0);
}
