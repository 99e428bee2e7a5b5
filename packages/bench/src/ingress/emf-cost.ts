// CPU of one EMF document per count, as every accepted callback writes one in Lambda (`CallbackAccepted`): the
// shipped EmfMetrics (the document's text kept per metric and dimension values, only timestamp and value written
// per call) against the document built whole and JSON.stringify'd, the adapter before session 15. Both write
// through the shipped destination to /dev/null, interleaved, so the figure is the document, not a terminal.
import { openSync } from 'node:fs';
import { syncFileDescriptor } from '@payhooks/core/logger';
import { EmfMetrics } from '@payhooks/functions/adapters/metrics';
import { now } from '../stats.ts';

type Count = (name: string, value: number, dimensions: Record<string, string>) => void;

function wholeDocument(serviceName: string): Count {
  const destination = syncFileDescriptor(openSync('/dev/null', 'w'));
  const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE || 'payhooks';
  return (name, value, dimensions) => {
    const values: Record<string, string> = { service: serviceName };
    for (const key in dimensions) if (dimensions[key]) values[key] = dimensions[key];
    const document = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: namespace,
            Dimensions: [Object.keys(values)],
            Metrics: [{ Name: name, Unit: 'Count' }],
          },
        ],
      },
      ...values,
      [name]: value,
    };
    destination.write(`${JSON.stringify(document)}\n`);
  };
}

/** µs per count of each side, one pair per repetition (`count` documents each). */
export function measureEmfCost(options: { count: number; reps: number }) {
  const shipped = new EmfMetrics('stripe-webhook', syncFileDescriptor(openSync('/dev/null', 'w')));
  const sides = {
    shipped: ((name, value, dimensions) => shipped.count(name, value, dimensions)) as Count,
    whole: wholeDocument('stripe-webhook'),
  };
  const pass = (count: Count) => {
    const start = now();
    for (let i = 0; i < options.count; i++) count('CallbackAccepted', 1, { provider: 'stripe' });
    return ((now() - start) * 1000) / options.count;
  };
  pass(sides.shipped);
  pass(sides.whole);
  const pairs: { measured: number; baseline: number }[] = [];
  for (let r = 0; r < options.reps; r++) {
    // The order alternates, so a slow phase of the shared machine does not always hit one side.
    if (r % 2 === 0) {
      const measured = pass(sides.shipped);
      pairs.push({ measured, baseline: pass(sides.whole) });
    } else {
      const baseline = pass(sides.whole);
      pairs.push({ measured: pass(sides.shipped), baseline });
    }
  }
  return pairs;
}
