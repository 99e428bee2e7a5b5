// The Lambda metrics adapter writes CloudWatch embedded-metric-format documents by hand: each must be the
// document Powertools' singleMetric() wrote (alarms and dashboards read those metrics by namespace, name and
// dimension set), one per count, on one line.
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
});
