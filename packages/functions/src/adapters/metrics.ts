// Metrics port: CloudWatch embedded metric format (EMF) lines on stdout in Lambda, an in-memory tally locally and
// in tests. The EMF document is written by hand, exactly as Powertools' singleMetric() wrote it (one document per
// count, dimensions `service` + the count's own, so alarms read the same metrics): the Powertools package was
// 13 KiB on every cold start for one JSON.stringify (docs/decisions.md "Ingress hot path and cold start,
// session 5").
import { type LogDestination, syncFileDescriptor } from '@payhooks/core/logger';
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
    // `name{k=v,…}` in the dimensions' own order, concatenated without the entries/map/join arrays (the
    // local runtime and case 1 count every callback through here).
    let key = name;
    if (dimensions) {
      let inner = '';
      for (const k in dimensions)
        inner = inner === '' ? `${k}=${dimensions[k]}` : `${inner},${k}=${dimensions[k]}`;
      key = `${name}{${inner}}`;
    }
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
  private readonly namespace: string;
  private readonly serviceName: string;
  private readonly destination: LogDestination;
  constructor(serviceName: string, destination: LogDestination = syncFileDescriptor(1)) {
    // The stacks set POWERTOOLS_METRICS_NAMESPACE to payhooks/<stage>; alarms read that namespace.
    this.namespace = process.env.POWERTOOLS_METRICS_NAMESPACE || 'payhooks';
    this.serviceName = serviceName;
    this.destination = destination;
  }
  count(name: string, value = 1, dimensions?: Record<string, string>): void {
    this.write(name, 'Count', value, dimensions);
  }
  milliseconds(name: string, value: number, dimensions?: Record<string, string>): void {
    this.write(name, 'Milliseconds', value, dimensions);
  }
  // One document per metric and dimension set, so dimensions never leak between metrics.
  private write(name: string, unit: string, value: number, dimensions?: Record<string, string>): void {
    const values: Record<string, string | number> = { service: this.serviceName };
    // As Powertools did: a dimension without a value is left out rather than published empty.
    for (const key in dimensions) if (dimensions[key]) values[key] = dimensions[key];
    const document = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: this.namespace,
            Dimensions: [Object.keys(values)],
            Metrics: [{ Name: name, Unit: unit }],
          },
        ],
      },
      ...values,
      [name]: value,
    };
    this.destination.write(`${JSON.stringify(document)}\n`);
  }
}

export function metricsFor(
  serviceName: string,
  env: Readonly<Record<string, string | undefined>>,
): TimedMetrics {
  return env.AWS_LAMBDA_FUNCTION_NAME ? new EmfMetrics(serviceName) : new MemoryMetrics();
}
