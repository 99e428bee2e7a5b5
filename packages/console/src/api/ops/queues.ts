// Queue depth for the console: GetQueueAttributes on the main queue and the DLQ through the OpsQueues port (SQS
// and the local emulator answer alike). SQS has no "age of the oldest message" attribute — it is the CloudWatch
// metric ApproximateAgeOfOldestMessage, read through the QueueAges port in a stage (functions'
// adapters/cloudwatch-ops.ts); locally there is no CloudWatch, and the oldest dead letter's age comes from the
// look (dead-letters.ts). The depth history is what a sampler wrote to queue_depth_samples (locally packages/local
// queue-depth-sampler.ts).
import type { Sql } from '@payhooks/core/ledger';
import type { OldestMessageAge, OpsQueues, QueueAges, QueueDepth, QueueDepthSample } from './types.ts';

export interface QueueStats {
  main: QueueDepth;
  dlq: QueueDepth;
  at: string;
  /** ApproximateAgeOfOldestMessage per queue; null when this API has no metrics source (locally). */
  oldestMessageAge: { main: OldestMessageAge | null; dlq: OldestMessageAge | null } | null;
}

export async function queueStats(queues: OpsQueues, now = new Date(), ages?: QueueAges): Promise<QueueStats> {
  const [depth, oldest] = await Promise.all([queues.depth(), ages ? ages.oldestMessageAge() : null]);
  return { ...depth, at: now.toISOString(), oldestMessageAge: oldest };
}

export async function queueDepthHistory(sql: Sql, since: Date): Promise<QueueDepthSample[]> {
  const rows = await sql<
    { queue: 'main' | 'dlq'; sampled_at: Date; visible: number; in_flight: number; delayed: number }[]
  >`
    select queue, sampled_at, visible, in_flight, delayed from queue_depth_samples
    where queue in ('main', 'dlq') and sampled_at >= ${since}
    order by queue, sampled_at`;
  return rows.map((r) => ({
    queue: r.queue,
    at: r.sampled_at.toISOString(),
    visible: r.visible,
    inFlight: r.in_flight,
    delayed: r.delayed,
  }));
}
