// Metrics port: CloudWatch EMF through Powertools in Lambda, an in-memory tally locally and in tests.
import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import type { Metrics } from '@payhooks/core/ports';

/** Metrics that also take durations (LedgerLag): alarms read their percentiles. */
export interface TimedMetrics extends Metrics {
  milliseconds(name: string, value: number, dimensions?: Record<string, string>): void;
}

export class MemoryMetrics implements TimedMetrics {
  readonly counts = new Map<string, number>();
  /** Every duration recorded, by metric name (dimensions are not kept). */
  readonly durations = new Map<string, number[]>();
  milliseconds(name: string, value: number): void {
    const values = this.durations.get(name) ?? [];
    values.push(value);
    this.durations.set(name, values);
  }
  count(name: string, value = 1, dimensions?: Record<string, string>): void {
    const key = dimensions
      ? `${name}{${Object.entries(dimensions)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}}`
      : name;
    this.counts.set(key, (this.counts.get(key) ?? 0) + value);
  }
  /** Sum over all dimension sets of one metric. */
  total(name: string): number {
    let sum = 0;
    for (const [key, value] of this.counts) if (key === name || key.startsWith(`${name}{`)) sum += value;
    return sum;
  }
}

export class EmfMetrics implements TimedMetrics {
  private readonly metrics: PowertoolsMetrics;
  constructor(serviceName: string) {
    // The stacks set POWERTOOLS_METRICS_NAMESPACE to payhooks/<stage>; alarms read that namespace.
    this.metrics = new PowertoolsMetrics({
      namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'payhooks',
      serviceName,
    });
  }
  count(name: string, value = 1, dimensions?: Record<string, string>): void {
    // One EMF document per dimension set, so dimensions never leak between metrics.
    const single = this.metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions ?? {})) single.addDimension(key, dimension);
    single.addMetric(name, MetricUnit.Count, value);
  }
  milliseconds(name: string, value: number, dimensions?: Record<string, string>): void {
    const single = this.metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions ?? {})) single.addDimension(key, dimension);
    single.addMetric(name, MetricUnit.Milliseconds, value);
  }
}

export function metricsFor(
  serviceName: string,
  env: Readonly<Record<string, string | undefined>>,
): TimedMetrics {
  return env.AWS_LAMBDA_FUNCTION_NAME ? new EmfMetrics(serviceName) : new MemoryMetrics();
}
