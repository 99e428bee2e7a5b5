// Plays the Lambda SQS event-source mapping locally: up to `batchSize` messages per invocation, at most
// `concurrency` invocations at once (the maximum-concurrency cap that bounds database connections),
// partial batch responses (only reported failures stay on the queue), a thrown handler fails the whole batch,
// and failed messages reappear after the visibility timeout until the redrive policy moves them to the DLQ.
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface PollerOptions {
  client: SQSClient;
  queueUrl: string;
  queueArn?: string;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
  batchSize?: number;
  concurrency?: number;
  onError?: (error: unknown) => void;
}

export interface PollerStats {
  invocations: number;
  received: number;
  deleted: number;
  failedItems: number;
  failedBatches: number;
  busy: number;
  maxBusy: number;
}

export interface Poller {
  stats: PollerStats;
  /** Resolves once a full poll round found the queue empty and no batch in flight. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const IDLE_BACKOFF_MS = 50;

export function startPoller(options: PollerOptions): Poller {
  const batchSize = options.batchSize ?? 10;
  const concurrency = options.concurrency ?? 2;
  const stats: PollerStats = {
    invocations: 0,
    received: 0,
    deleted: 0,
    failedItems: 0,
    failedBatches: 0,
    busy: 0,
    maxBusy: 0,
  };
  let running = true;
  let emptyPolls = 0;
  let idleWaiters: (() => void)[] = [];
  const arn = options.queueArn ?? `arn:aws:sqs:us-east-1:000000000000:${options.queueUrl.split('/').pop()}`;

  const toRecord = (message: Message): SQSRecord => ({
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp:
        message.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: 'us-east-1',
  });

  async function pollOnce(): Promise<boolean> {
    const response = await options.client.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: batchSize,
        WaitTimeSeconds: 0, // the emulator holds long polls until the batch is full
        // AWS reads MessageSystemAttributeNames; the emulator only the older AttributeNames.
        MessageSystemAttributeNames: ['All'],
        AttributeNames: ['All'],
      }),
    );
    const seen = new Set<string>();
    const messages = (response.Messages ?? []).filter(
      (m) => m.MessageId && !seen.has(m.MessageId) && seen.add(m.MessageId),
    );
    if (messages.length === 0) return false;
    stats.invocations += 1;
    stats.received += messages.length;
    stats.busy += 1;
    stats.maxBusy = Math.max(stats.maxBusy, stats.busy);
    let failed: Set<string>;
    try {
      const result = await options.handler({ Records: messages.map(toRecord) });
      failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      stats.failedItems += failed.size;
    } catch (error) {
      options.onError?.(error);
      stats.failedBatches += 1;
      failed = new Set(messages.map((m) => m.MessageId!));
    } finally {
      stats.busy -= 1;
    }
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (done.length > 0) {
      await options.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      stats.deleted += done.length;
    }
    return true;
  }

  async function worker(): Promise<void> {
    while (running) {
      let gotMessages = false;
      try {
        gotMessages = await pollOnce();
      } catch (error) {
        if (running) options.onError?.(error);
      }
      if (gotMessages) {
        emptyPolls = 0;
        continue;
      }
      emptyPolls += 1;
      if (stats.busy === 0 && emptyPolls >= concurrency) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
      await new Promise((resolve) => setTimeout(resolve, IDLE_BACKOFF_MS));
    }
  }

  const workers = Array.from({ length: concurrency }, () => worker());
  return {
    stats,
    idle: () =>
      new Promise<void>((resolve) => {
        emptyPolls = 0;
        idleWaiters.push(resolve);
      }),
    async stop() {
      running = false;
      await Promise.all(workers);
      for (const resolve of idleWaiters) resolve();
    },
  };
}
