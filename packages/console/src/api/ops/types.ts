// What the operations routes need besides the database, as ports the wiring fills (the console imports only core):
// the dead-letter queue and queue depth (functions' SQS adapter, in the Lambda wiring and the local runtime), and
// locally the ring of recent rejections.
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

export interface OpsDeps {
  queues: OpsQueues;
  /** Locally, the gateway's ring of recent rejections; absent in a stage (CloudWatch only). */
  rejections?: RecentRejections;
}
