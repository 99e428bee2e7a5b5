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

// A key JSON.stringify would write before `_aws` (an array index): such a document is built whole, not templated.
const INDEX_KEY = /^(?:0|[1-9]\d*)$/;
// Distinct (metric, unit, dimension values) kept as templates per process; past it documents are built whole.
const MAX_TEMPLATES = 1000;

export class EmfMetrics implements TimedMetrics {
  private readonly namespace: string;
  private readonly serviceName: string;
  private readonly destination: LogDestination;
  private readonly now: () => number;
  // Per metric, unit and dimension values: the document's text between its timestamp and its value
  // (`{"_aws":{"Timestamp":${t}${middle}${value}}`), or null where it is built whole.
  private readonly templates = new Map<string, string | null>();
  constructor(
    serviceName: string,
    destination: LogDestination = syncFileDescriptor(1),
    now: () => number = Date.now,
  ) {
    // The stacks set POWERTOOLS_METRICS_NAMESPACE to payhooks/<stage>; alarms read that namespace.
    this.namespace = process.env.POWERTOOLS_METRICS_NAMESPACE || 'payhooks';
    this.serviceName = serviceName;
    this.destination = destination;
    this.now = now;
  }
  count(name: string, value = 1, dimensions?: Record<string, string>): void {
    this.write(name, 'Count', value, dimensions);
  }
  milliseconds(name: string, value: number, dimensions?: Record<string, string>): void {
    this.write(name, 'Milliseconds', value, dimensions);
  }
  // One document per metric and dimension set, so dimensions never leak between metrics. Every accepted callback
  // writes one: its text is JSON.stringify(documentOf(…)), kept per metric, unit and dimension values with only
  // the timestamp and the value written per call (tests/emf-metrics.test.ts compares the two).
  private write(name: string, unit: string, value: number, dimensions?: Record<string, string>): void {
    // Lengths make the key unambiguous whatever the names and values contain.
    let key = `${unit}:${name.length}:${name}`;
    for (const k in dimensions) {
      // Every falsy value is left out of the document alike (documentOf).
      const v = String(dimensions[k] || '');
      key = `${key}:${k.length}:${k}${v.length}:${v}`;
    }
    let template = this.templates.get(key);
    if (template === undefined) {
      template = this.templateOf(name, unit, dimensions);
      if (this.templates.size < MAX_TEMPLATES) this.templates.set(key, template);
    }
    const timestamp = this.now();
    const line =
      template !== null && Number.isFinite(value)
        ? `{"_aws":{"Timestamp":${timestamp}${template}${value}}`
        : JSON.stringify(this.documentOf(name, unit, value, dimensions, timestamp));
    this.destination.write(`${line}\n`);
  }
  private documentOf(
    name: string,
    unit: string,
    value: number,
    dimensions: Record<string, string> | undefined,
    timestamp: number,
  ): Record<string, unknown> {
    const values = this.valuesOf(dimensions);
    return { _aws: this.metadataOf(name, unit, values, timestamp), ...values, [name]: value };
  }
  private valuesOf(dimensions: Record<string, string> | undefined): Record<string, string> {
    const values: Record<string, string> = { service: this.serviceName };
    // As Powertools did: a dimension without a value is left out rather than published empty.
    for (const key in dimensions) if (dimensions[key]) values[key] = dimensions[key];
    return values;
  }
  private metadataOf(name: string, unit: string, values: Record<string, string>, timestamp: number) {
    return {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: this.namespace,
          Dimensions: [Object.keys(values)],
          Metrics: [{ Name: name, Unit: unit }],
        },
      ],
    };
  }
  /** The text between timestamp and value, or null where key order would make it differ from the document. */
  private templateOf(
    name: string,
    unit: string,
    dimensions: Record<string, string> | undefined,
  ): string | null {
    const values = this.valuesOf(dimensions);
    // `[name]` must be a key of its own after `_aws` and the dimensions, and no key an array index.
    if (name === '_aws' || Object.hasOwn(values, name) || Object.hasOwn(values, '_aws')) return null;
    if (INDEX_KEY.test(name) || Object.keys(values).some((k) => INDEX_KEY.test(k))) return null;
    const metadata = JSON.stringify(this.metadataOf(name, unit, values, 0)).slice(
      '{"Timestamp":0'.length,
      -1,
    );
    return `${metadata}},${JSON.stringify(values).slice(1, -1)},${JSON.stringify(name)}:`;
  }
}

export function metricsFor(
  serviceName: string,
  env: Readonly<Record<string, string | undefined>>,
): TimedMetrics {
  return env.AWS_LAMBDA_FUNCTION_NAME ? new EmfMetrics(serviceName) : new MemoryMetrics();
}
