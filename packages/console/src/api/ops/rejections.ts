// Recent ingress rejections by reason. The ingress counts each refusal as the metric CallbackRejected
// {provider, reason} (core/ingress); locally the gateway keeps the last ones in a bounded ring (packages/local
// rejection-ring.ts) that the console reads through this port; in a stage the port reads the metric from
// CloudWatch (functions' adapters/cloudwatch-ops.ts, GetMetricData grouped by provider and reason).

export interface RejectionCount {
  provider: string;
  reason: string;
  count: number;
  lastAt: string;
}

export interface RecentRejections {
  /** Rejections at or after `since`, grouped by provider and reason, most frequent first. */
  since(since: Date): RejectionCount[] | Promise<RejectionCount[]>;
  /** How many rejections a ring holds at most (older ones are forgotten); absent for CloudWatch. */
  capacity?: number;
  /** Where the counts come from (the page says it): the gateway's ring, or the stage's metric. */
  source?: 'ring' | 'cloudwatch';
}
