// Reading MemoryMetrics tallies by name and dimensions (what the demo prints): exact dimension matches, the
// order tallies were first counted in, and no confusion between metrics sharing a prefix.
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { describe, expect, it } from 'vitest';
import { countOf, countsOf } from '../src/demo/metrics.ts';

describe('demo metrics', () => {
  it('sums and lists the tallies whose dimensions include the asked ones', () => {
    const metrics = new MemoryMetrics();
    metrics.count('CallbackRejected', 1, { provider: 'stripe', reason: 'STRIPE_SIGNATURE_MISMATCH' });
    metrics.count('CallbackRejected', 2, { provider: 'stripex', reason: 'OTHER' });
    metrics.count('CallbackRejected', 1, { provider: 'stripe', reason: 'BODY_TOO_LARGE' });
    metrics.count('CallbackRejected', 1, { provider: 'stripe', reason: 'STRIPE_SIGNATURE_MISMATCH' });
    metrics.count('CallbackRejectedLate', 5, { provider: 'stripe' });
    metrics.count('CallbackRejected', 7);

    expect(countOf(metrics, 'CallbackRejected', { provider: 'stripe' })).toBe(3);
    expect(countOf(metrics, 'CallbackRejected')).toBe(12);
    expect(countOf(metrics, 'EventApplied', { provider: 'stripe' })).toBe(0);
    expect(
      countsOf(metrics, 'CallbackRejected', { provider: 'stripe' }).map(
        (c) => `${c.dimensions.reason}×${c.value}`,
      ),
    ).toEqual(['STRIPE_SIGNATURE_MISMATCH×2', 'BODY_TOO_LARGE×1']);
  });
});
