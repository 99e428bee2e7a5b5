// Plays the Lambda SQS event-source mapping locally: up to `batchSize` messages per invocation, gathered over
// several ReceiveMessage calls (10 at most each) within the maximum batching window, at most `concurrency`
// invocations at once (the maximum-concurrency cap that bounds database connections), partial batch responses
// (only reported failures stay on the queue), a thrown handler fails the whole batch, and failed messages
// reappear after the visibility timeout until the redrive policy moves them to the DLQ.
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { QueueChannel } from './queue-channel.ts';
import { channelEventSourceQueue, sdkEventSourceQueue, wireEventSourceQueue } from './queue-wire.ts';

export interface PollerOptions {
  /**
   * With a client the poller asks SQS through the AWS SDK (any endpoint); without one, it speaks bare AWS JSON to
   * the local emulator at the queue URL's origin (queue-wire.ts: the SDK's middleware cost ~1 ms CPU per call).
   */
  client?: SQSClient;
  /** The local queue process's IPC channel: the same requests without loopback HTTP (queue-channel.ts). */
  channel?: QueueChannel;
  queueUrl: string;
  queueArn?: string;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
  /** Messages per invocation (default 10); above 10 they are gathered over several receives. */
  batchSize?: number;
  /**
   * The maximum batching window: how long to keep gathering after the first message of a batch while the batch
   * is not full. Default 0 for a batch size of up to 10 and 1000 ms above, as Lambda requires (≥ 1 s there).
   * Capped at a third of the queue's visibility timeout, so gathered messages never reappear before the handover.
   */
  batchingWindowMs?: number;
  /** The queue's visibility timeout; read from the queue when a batching window needs it and it is not given. */
  visibilityTimeoutSeconds?: number;
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
/**
 * While a batch is not full and the queue is dry, look again this often until the window ends. Each look is a
 * receive that the emulator answers by scanning its queue; at 25 ms two pollers asked ≈ 80 times a second, more
 * requests than the gateway's batched sends (bench case 7). The batch goes at the window's end anyway.
 */
const GATHER_RETRY_MS = 100;
/** ReceiveMessage and DeleteMessageBatch take at most 10 messages. */
const SQS_MAX_BATCH = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function startPoller(options: PollerOptions): Poller {
  const queue = options.client
    ? sdkEventSourceQueue(options.client, options.queueUrl)
    : options.channel
      ? channelEventSourceQueue(options.channel, options.queueUrl)
      : wireEventSourceQueue(options.queueUrl);
  const batchSize = options.batchSize ?? SQS_MAX_BATCH;
  const concurrency = options.concurrency ?? 2;
  const requestedWindowMs = options.batchingWindowMs ?? (batchSize > SQS_MAX_BATCH ? 1000 : 0);
  let visibility: Promise<number> | undefined;
  /** The queue's visibility timeout in ms (asked once, when a batching window needs it). */
  const visibilityMs = () => {
    visibility ??= (async () => {
      if (options.visibilityTimeoutSeconds !== undefined) return options.visibilityTimeoutSeconds * 1000;
      return (await queue.visibilityTimeoutSeconds()) * 1000;
    })();
    visibility.catch(() => {
      visibility = undefined; // the queue was unreachable: ask again on the next poll
    });
    return visibility;
  };
  const batchingWindowMs = async () =>
    requestedWindowMs <= 0 ? 0 : Math.min(requestedWindowMs, (await visibilityMs()) / 3);
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
  /** Batches being gathered that already hold messages: the queue is not idle while one is. */
  let holding = 0;
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

  // WaitTimeSeconds 0: the emulator holds long polls until the batch is full.
  const receive = (max: number): Promise<Message[]> => queue.receive(max);

  /**
   * One batch: receives of up to 10 (several in parallel while the queue keeps them coming) until `batchSize` are
   * in hand, or the queue is dry — then right away without a window, else at the end of the window that opened
   * with the first message. A message seen twice (the emulator may return one twice) counts once, with its
   * latest receipt handle. The first round is one receive: only a full answer shows the queue holds more, and
   * parallel receives of a sparse queue come back empty (each an HTTP round trip on both sides).
   */
  async function gather(): Promise<Message[]> {
    const window = await batchingWindowMs();
    const batch = new Map<string, Message>();
    let deadline = Number.POSITIVE_INFINITY;
    let parallel = 1;
    try {
      for (;;) {
        const missing = batchSize - batch.size;
        const calls = Math.min(parallel, Math.ceil(missing / SQS_MAX_BATCH));
        const asked = Array.from({ length: calls }, (_, i) =>
          Math.min(SQS_MAX_BATCH, missing - i * SQS_MAX_BATCH),
        );
        const received = (await Promise.all(asked.map(receive))).flat();
        for (const message of received) if (message.MessageId) batch.set(message.MessageId, message);
        // A short answer means the queue is (nearly) dry.
        const dry = received.length < asked.reduce((sum, n) => sum + n, 0);
        if (batch.size === 0 || batch.size >= batchSize || (window === 0 && dry)) return [...batch.values()];
        if (window === 0) {
          parallel = Math.ceil(batchSize / SQS_MAX_BATCH);
          continue;
        }
        if (deadline === Number.POSITIVE_INFINITY) {
          deadline = Date.now() + window;
          holding += 1;
        }
        const left = deadline - Date.now();
        if (left <= 0 || !running) return [...batch.values()];
        // Dry: one receive at a time, a little apart, until the window ends.
        parallel = dry ? 1 : Math.ceil(batchSize / SQS_MAX_BATCH);
        if (dry) await sleep(Math.min(GATHER_RETRY_MS, left));
      }
    } finally {
      if (deadline !== Number.POSITIVE_INFINITY) holding -= 1;
    }
  }

  /**
   * While a gathered batch is being handled, renew its visibility every third of the timeout. In AWS the
   * visibility timeout must be at least the function timeout; tests run with a 1 s timeout to see redelivery
   * quickly, and a batch of 100 can take longer than that — it must not be handed out again while in flight.
   */
  function keepInvisible(messages: Message[], timeoutMs: number): NodeJS.Timeout {
    const chunks = Array.from({ length: Math.ceil(messages.length / SQS_MAX_BATCH) }, (_, i) =>
      messages.slice(i * SQS_MAX_BATCH, (i + 1) * SQS_MAX_BATCH),
    );
    return setInterval(() => {
      for (const chunk of chunks)
        queue
          .changeVisibilityBatch(
            chunk.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
            Math.ceil(timeoutMs / 1000),
          )
          .catch(() => {}); // best effort: at worst the message is delivered again (at-least-once)
    }, timeoutMs / 3);
  }

  async function pollOnce(): Promise<boolean> {
    const messages = await gather();
    if (messages.length === 0) return false;
    // Gathering took the visibility timeout already, so it is known here.
    const heartbeat = requestedWindowMs > 0 ? keepInvisible(messages, await visibilityMs()) : undefined;
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
      if (heartbeat) clearInterval(heartbeat);
      stats.busy -= 1;
    }
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (done.length > 0) {
      const chunks = Array.from({ length: Math.ceil(done.length / SQS_MAX_BATCH) }, (_, i) =>
        done.slice(i * SQS_MAX_BATCH, (i + 1) * SQS_MAX_BATCH),
      );
      const notDeleted = await Promise.all(
        chunks.map((chunk) =>
          queue.deleteBatch(chunk.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! }))),
        ),
      );
      // One SQS could not delete comes back after the visibility timeout (at-least-once).
      stats.deleted += done.length - notDeleted.reduce((sum, failed) => sum + failed.length, 0);
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
      if (stats.busy === 0 && holding === 0 && emptyPolls >= concurrency) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
      await sleep(IDLE_BACKOFF_MS);
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
      queue.close();
      for (const resolve of idleWaiters) resolve();
    },
  };
}
