// The Lambda metrics adapter writes CloudWatch embedded-metric-format documents by hand: each must be the
// document Powertools' singleMetric() wrote (alarms and dashboards read those metrics by namespace, name and
// dimension set), one per count, on one line.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { EmfMetrics } from '../src/adapters/metrics.ts';

const saved = process.env.POWERTOOLS_METRICS_NAMESPACE;
afterEach(() => {
  if (saved === undefined) delete process.env.POWERTOOLS_METRICS_NAMESPACE;
  else process.env.POWERTOOLS_METRICS_NAMESPACE = saved;
});

function capture(service: string) {
  const lines: string[] = [];
  return { lines, metrics: new EmfMetrics(service, { write: (line: string) => lines.push(line) }) };
}

describe('EmfMetrics', () => {
  it('one EMF document per count: namespace, dimension set service + own, the unit and the value', () => {
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'payhooks/prod';
    const { lines, metrics } = capture('stripe-webhook');
    const before = Date.now();
    metrics.count('CallbackRejected', 1, { provider: 'stripe', reason: 'STRIPE_SIGNATURE_MISMATCH' });
    metrics.milliseconds('LedgerLag', 812.5, { provider: 'wechatpay' });
    metrics.count('StageRefused');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.endsWith('}\n') && !line.slice(0, -1).includes('\n')).toBe(true);
    const [rejected, lag, refused] = lines.map((l) => JSON.parse(l));
    expect(rejected).toEqual({
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [
          {
            Namespace: 'payhooks/prod',
            Dimensions: [['service', 'provider', 'reason']],
            Metrics: [{ Name: 'CallbackRejected', Unit: 'Count' }],
          },
        ],
      },
      service: 'stripe-webhook',
      provider: 'stripe',
      reason: 'STRIPE_SIGNATURE_MISMATCH',
      CallbackRejected: 1,
    });
    expect(rejected._aws.Timestamp).toBeGreaterThanOrEqual(before);
    expect(lag._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'LedgerLag', Unit: 'Milliseconds' }]);
    expect(lag.LedgerLag).toBe(812.5);
    expect(refused._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
    expect(refused.StageRefused).toBe(1);
  });

  it('a dimension without a value is left out; the namespace defaults to payhooks', () => {
    delete process.env.POWERTOOLS_METRICS_NAMESPACE;
    const { lines, metrics } = capture('consumer');
    metrics.count('EventApplied', 2, { provider: 'stripe', account: '' });
    const document = JSON.parse(lines[0]!);
    expect(document._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'payhooks',
      Dimensions: [['service', 'provider']],
    });
    expect(document).not.toHaveProperty('account');
    expect(document.EventApplied).toBe(2);
  });

  it('writes exactly the text of the whole document, however often the same metric repeats (property)', () => {
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'payhooks/"quoted"\\stage';
    // Names and dimension keys that collide with each other, with `service` or `_aws`, or are array indexes
    // (JSON writes those first) are drawn often, as are empty, unicode and non-finite values.
    const word = fc.oneof(
      fc.constantFrom(
        'CallbackAccepted',
        'provider',
        'service',
        '_aws',
        'reason',
        '0',
        '7',
        '01',
        'toString',
      ),
      fc.string({ maxLength: 6 }),
      fc.string({ unit: 'grapheme', maxLength: 4 }),
    );
    const value = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, 1, 812.5, 1e21));
    const call = fc.record({
      unit: fc.constantFrom('count', 'milliseconds'),
      name: word,
      value,
      dimensions: fc.option(fc.dictionary(word, fc.oneof(word, fc.constant('')), { maxKeys: 3 }), {
        nil: undefined,
      }),
      timestamp: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    });
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 12 }), (calls) => {
        const lines: string[] = [];
        let clock = 0;
        const metrics = new EmfMetrics(
          'stripe-webhook',
          { write: (line: string) => lines.push(line) },
          () => clock,
        );
        const expected: string[] = [];
        // Each call twice: the second finds the metric's text already kept.
        for (const c of [...calls, ...calls]) {
          clock = c.timestamp;
          if (c.unit === 'count') metrics.count(c.name, c.value, c.dimensions);
          else metrics.milliseconds(c.name, c.value, c.dimensions);
          expected.push(
            `${JSON.stringify(wholeDocument(c, c.unit === 'count' ? 'Count' : 'Milliseconds'))}\n`,
          );
        }
        expect(lines).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

/** The document as the adapter built it before it kept texts: service, the non-empty dimensions, the value. */
function wholeDocument(
  c: { name: string; value: number; dimensions?: Record<string, string>; timestamp: number },
  unit: string,
) {
  const values: Record<string, string> = { service: 'stripe-webhook' };
  for (const key in c.dimensions) if (c.dimensions[key]) values[key] = c.dimensions[key];
  return {
    _aws: {
      Timestamp: c.timestamp,
      CloudWatchMetrics: [
        {
          Namespace: process.env.POWERTOOLS_METRICS_NAMESPACE,
          Dimensions: [Object.keys(values)],
          Metrics: [{ Name: c.name, Unit: unit }],
        },
      ],
    },
    ...values,
    [c.name]: c.value,
  };
}
