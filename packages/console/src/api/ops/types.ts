// What the operations routes need besides the database, as ports the wiring fills (the console imports only core):
// the dead-letter queue and queue depth (functions' SQS adapter, in the Lambda wiring and the local runtime), the
// age of each queue's oldest message (CloudWatch in a stage: SQS's GetQueueAttributes has no such attribute), and
// recent rejections (the gateway's ring locally, the CallbackRejected metric in CloudWatch in a stage).
import type { Envelope } from '@payhooks/core/envelope';
import type { RecentRejections } from './rejections.ts';

export interface DeadLetter {
  messageId: string;
  sentAt: string | undefined;
  envelope: Envelope | undefined;
  invalid?: string;
  bodyBytes: number;
}

export interface SelectiveReplayResult {
  selected: string[];
  moved: string[];
  sentNotDeleted: string[];
  notSent: string[];
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

/** The main queue and its DLQ, as the CLI's shared dead-letter operations see them. */
export interface OpsQueues {
  /** A side-effect-free look at up to `limit` dead letters (handed back at once). */
  listDeadLetters(limit: number): Promise<DeadLetter[]>;
  /** Re-drives the dead letters `choose` picks among those the look found; the rest are handed back. */
  replaySelected(
    choose: (letters: DeadLetter[]) => Promise<ReadonlySet<string>>,
  ): Promise<SelectiveReplayResult>;
  depth(): Promise<{ main: QueueDepth; dlq: QueueDepth }>;
}

/** One queue's ApproximateAgeOfOldestMessage: its newest datapoint, or null when the window has none. */
export interface OldestMessageAge {
  seconds: number;
  /** The datapoint's time (CloudWatch aggregates per minute). */
  at: string;
}

export interface QueueAges {
  oldestMessageAge(): Promise<{ main: OldestMessageAge | null; dlq: OldestMessageAge | null }>;
}

/** One point of the queue-depth chart. */
export interface QueueDepthSample {
  queue: 'main' | 'dlq';
  at: string;
  visible: number;
  inFlight: number;
  delayed: number;
}

/** Queue depth over time: CloudWatch's SQS metrics in a stage (no sampler runs there). */
export interface QueueDepthHistory {
  since(since: Date): Promise<QueueDepthSample[]>;
}

export interface OpsDeps {
  queues: OpsQueues;
  /** The depth chart's samples; without it, what a sampler wrote to queue_depth_samples (the local runtime's). */
  depthHistory?: QueueDepthHistory;
  /** The age of the oldest message per queue (CloudWatch in a stage); absent locally (no CloudWatch). */
  queueAges?: QueueAges;
  /** Recent rejections: the gateway's ring locally, the CallbackRejected metric (CloudWatch) in a stage. */
  rejections?: RecentRejections;
}
