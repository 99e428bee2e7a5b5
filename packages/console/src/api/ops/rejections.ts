// Recent ingress rejections by reason. The ingress counts each refusal as the metric CallbackRejected
// {provider, reason} (core/ingress); locally the gateway keeps the last ones in a bounded ring (packages/local
// rejection-ring.ts) that the console reads through this port. In a stage the metric is in CloudWatch, which the
// console API does not read (docs/console.md "Operations"): there the port is absent and the page says so.

export interface RejectionCount {
  provider: string;
  reason: string;
  count: number;
  lastAt: string;
}

export interface RecentRejections {
  /** Rejections at or after `since`, grouped by provider and reason, most frequent first. */
  since(since: Date): RejectionCount[];
  /** How many rejections the ring holds at most (older ones are forgotten). */
  capacity: number;
}
