// LedgerLag: recorded per applied event from the provider's event time to the commit, never for duplicates.
import type { Envelope } from '@payhooks/core/envelope';
import { describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../src/adapters/metrics.ts';
import { recordLedgerLag } from '../src/consumer.ts';

const envelope = { occurredAt: '2026-12-01T10:00:00.000Z' } as Envelope;
const committedAt = Date.parse('2026-12-01T10:00:02.500Z');

describe('recordLedgerLag', () => {
  it('records milliseconds from occurredAt to the commit for an applied event', () => {
    const metrics = new MemoryMetrics();
    recordLedgerLag(metrics, envelope, { outcome: 'applied' }, committedAt);
    expect(metrics.durations.get('LedgerLag')).toEqual([2_500]);
  });

  it('records nothing for a duplicate', () => {
    const metrics = new MemoryMetrics();
    recordLedgerLag(metrics, envelope, { outcome: 'duplicate' }, committedAt);
    expect(metrics.durations.get('LedgerLag')).toBeUndefined();
  });
});
