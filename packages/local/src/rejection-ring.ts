// Recent ingress rejections, kept by the local gateway for the operations console: the ingress counts each
// refusal as CallbackRejected {provider, reason} on its metrics port; this wrapper passes every count through to
// the real metrics and remembers the rejections in a bounded ring (the oldest forgotten first), so memory stays
// flat under a flood of forgeries. In a stage the same counts are CloudWatch metrics.
import type { TimedMetrics } from '@payhooks/functions/adapters/metrics';

export interface RejectionCount {
  provider: string;
  reason: string;
  count: number;
  lastAt: string;
}

export class RejectionRing {
  private readonly at: number[];
  private readonly keys: string[];
  private next = 0;
  private size = 0;
  constructor(
    readonly capacity = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.at = new Array(capacity);
    this.keys = new Array(capacity);
  }

  record(provider: string, reason: string): void {
    this.at[this.next] = this.now();
    this.keys[this.next] = `${provider}\u0000${reason}`;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Rejections at or after `since`, by provider and reason, most frequent first. */
  since(since: Date): RejectionCount[] {
    const from = since.getTime();
    const groups = new Map<string, { count: number; lastAt: number }>();
    for (let i = 0; i < this.size; i++) {
      const at = this.at[i]!;
      if (at < from) continue;
      const group = groups.get(this.keys[i]!) ?? { count: 0, lastAt: 0 };
      group.count += 1;
      group.lastAt = Math.max(group.lastAt, at);
      groups.set(this.keys[i]!, group);
    }
    return [...groups.entries()]
      .map(([key, g]) => {
        const [provider, reason] = key.split('\u0000') as [string, string];
        return { provider, reason, count: g.count, lastAt: new Date(g.lastAt).toISOString() };
      })
      .sort(
        (a, b) =>
          b.count - a.count || a.provider.localeCompare(b.provider) || a.reason.localeCompare(b.reason),
      );
  }
}

/** The ingress's metrics, with every CallbackRejected also remembered in `ring`. */
export function rememberingRejections(metrics: TimedMetrics, ring: RejectionRing): TimedMetrics {
  return {
    count(name, value = 1, dimensions) {
      metrics.count(name, value, dimensions);
      if (name === 'CallbackRejected')
        for (let i = 0; i < value; i++)
          ring.record(dimensions?.provider ?? 'unknown', dimensions?.reason ?? 'unknown');
    },
    milliseconds(name, value, dimensions) {
      metrics.milliseconds(name, value, dimensions);
    },
  };
}
