// Queue depth for the console: GetQueueAttributes on the main queue and the DLQ through the OpsQueues port (SQS
// and the local emulator answer alike). SQS has no "age of the oldest message" attribute — it is the CloudWatch metric
// ApproximateAgeOfOldestMessage, which the stage's queue-age alarm watches; the console shows the oldest dead
// letter's age from its look instead (dead-letters.ts), and docs/console.md says so. The depth history is
// what a sampler wrote to queue_depth_samples (locally packages/local queue-depth-sampler.ts).
import type { Sql } from '@payhooks/core/ledger';
import type { OpsQueues, QueueDepth } from './types.ts';

export interface QueueStats {
  main: QueueDepth;
  dlq: QueueDepth;
  at: string;
}

export async function queueStats(queues: OpsQueues, now = new Date()): Promise<QueueStats> {
  return { ...(await queues.depth()), at: now.toISOString() };
}

export interface QueueDepthSample {
  queue: 'main' | 'dlq';
  at: string;
  visible: number;
  inFlight: number;
  delayed: number;
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
