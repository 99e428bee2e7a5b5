// The local SQS's queues in memory, with AWS's semantics for a standard queue and constant work per message: a
// visible message waits in a FIFO (array + head index), an in-flight one in a map by MessageId with its own
// visibility timer, so a receive takes from the front and a delete or visibility change is one map lookup. The
// `local-aws-sqs` emulator this replaces in the stack scanned every message of the queue on each receive, delete and
// visibility change (docs/benchmarks.md, case 7). No I/O here: actions.ts speaks the protocol, queue-process.ts serves it.
import { createHash, randomUUID } from 'node:crypto';

export const ACCOUNT_ID = '000000000000';
export const REGION = 'us-east-1';

export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface StoredMessage {
  id: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  md5OfMessageAttributes?: string;
  sentTimestamp: number;
  receiveCount: number;
  firstReceiveTimestamp: number;
  /** The latest receipt handle (a receive hands out a new one). */
  receiptHandle: string;
  state: 'visible' | 'inflight' | 'delayed' | 'gone';
  timer?: NodeJS.Timeout;
  deadLetterSourceArn?: string;
}

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

export interface MoveTask {
  taskHandle: string;
  sourceArn: string;
  destinationArn?: string;
  status: 'RUNNING' | 'COMPLETED' | 'FAILED';
  moved: number;
  toMove: number;
  startedTimestamp: number;
  failureReason?: string;
}

export const DEFAULT_ATTRIBUTES: Record<string, string> = {
  VisibilityTimeout: '30',
  MaximumMessageSize: '262144',
  MessageRetentionPeriod: '345600',
  DelaySeconds: '0',
  ReceiveMessageWaitTimeSeconds: '0',
};

/** SQS's MD5 of message attributes: per attribute by name, length-prefixed name, type, transport byte and value. */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string {
  const hash = createHash('md5');
  const lengthPrefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length);
    hash.update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name]!;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(value.DataType, 'utf8'));
    if (value.BinaryValue !== undefined) {
      hash.update(Buffer.from([2]));
      lengthPrefixed(Buffer.from(value.BinaryValue, 'base64'));
    } else {
      hash.update(Buffer.from([1]));
      lengthPrefixed(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return hash.digest('hex');
}

interface Waiter {
  max: number;
  visibilityTimeoutSeconds: number | undefined;
  resolve: (messages: StoredMessage[]) => void;
  timer: NodeJS.Timeout;
}

export class LocalQueue {
  readonly url: string;
  readonly arn: string;
  readonly attributes: Record<string, string>;
  readonly createdTimestamp = Math.floor(Date.now() / 1000);
  lastModifiedTimestamp = this.createdTimestamp;
  lastPurgeMs = 0;
  readonly moveTasks: MoveTask[] = [];
  private readonly messages = new Map<string, StoredMessage>();
  private visible: StoredMessage[] = [];
  private head = 0;
  private visibleCount = 0;
  private inflightCount = 0;
  private delayedCount = 0;
  private waiters: Waiter[] = [];
  private serveScheduled = false;

  constructor(
    readonly name: string,
    origin: string,
    attributes: Record<string, string>,
    private readonly service: QueueService,
  ) {
    this.url = `${origin}/${ACCOUNT_ID}/${name}`;
    this.arn = `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${name}`;
    this.attributes = { ...DEFAULT_ATTRIBUTES, ...attributes };
  }

  get visibilityTimeoutSeconds(): number {
    return Number(this.attributes.VisibilityTimeout);
  }

  get redrivePolicy(): RedrivePolicy | undefined {
    const text = this.attributes.RedrivePolicy;
    if (!text) return undefined;
    const policy = JSON.parse(text) as { deadLetterTargetArn: string; maxReceiveCount: number | string };
    return {
      deadLetterTargetArn: policy.deadLetterTargetArn,
      maxReceiveCount: Number(policy.maxReceiveCount),
    };
  }

  /** When the oldest message still held was sent (messages are kept in the order they were sent); undefined when empty. */
  oldestSentTimestamp(): number | undefined {
    return this.messages.values().next().value?.sentTimestamp;
  }

  counts(): { visible: number; inflight: number; delayed: number } {
    return { visible: this.visibleCount, inflight: this.inflightCount, delayed: this.delayedCount };
  }

  send(
    body: string,
    options: {
      delaySeconds?: number;
      messageAttributes?: Record<string, MessageAttributeValue>;
      id?: string;
      deadLetterSourceArn?: string;
    } = {},
  ): StoredMessage {
    const attributes =
      options.messageAttributes && Object.keys(options.messageAttributes).length > 0
        ? options.messageAttributes
        : undefined;
    const message: StoredMessage = {
      id: options.id ?? randomUUID(),
      body,
      md5OfBody: createHash('md5').update(body, 'utf8').digest('hex'),
      ...(attributes
        ? { messageAttributes: attributes, md5OfMessageAttributes: md5OfMessageAttributes(attributes) }
        : {}),
      sentTimestamp: Date.now(),
      receiveCount: 0,
      firstReceiveTimestamp: 0,
      receiptHandle: '',
      state: 'delayed',
      ...(options.deadLetterSourceArn ? { deadLetterSourceArn: options.deadLetterSourceArn } : {}),
    };
    this.messages.set(message.id, message);
    const delay = options.delaySeconds ?? Number(this.attributes.DelaySeconds);
    if (delay > 0) {
      this.delayedCount += 1;
      message.timer = setTimeout(() => {
        this.delayedCount -= 1;
        this.makeVisible(message);
      }, delay * 1000);
      message.timer.unref();
    } else {
      this.makeVisible(message);
    }
    return message;
  }

  private makeVisible(message: StoredMessage): void {
    message.state = 'visible';
    message.timer = undefined;
    this.visible.push(message);
    this.visibleCount += 1;
    if (this.waiters.length > 0 && !this.serveScheduled) {
      // Serve long polls once the messages arriving in this turn are all in: one answer carries them together.
      this.serveScheduled = true;
      setImmediate(() => {
        this.serveScheduled = false;
        this.serveWaiters();
      });
    }
  }

  private serveWaiters(): void {
    while (this.waiters.length > 0 && this.visibleCount > 0) {
      const waiter = this.waiters.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve(this.take(waiter.max, waiter.visibilityTimeoutSeconds));
    }
  }

  /** Up to `max` visible messages, now in flight for the visibility timeout (the queue's unless given). */
  take(max: number, visibilityTimeoutSeconds?: number): StoredMessage[] {
    const taken: StoredMessage[] = [];
    const timeoutSeconds = visibilityTimeoutSeconds ?? this.visibilityTimeoutSeconds;
    while (taken.length < max && this.head < this.visible.length) {
      const message = this.visible[this.head]!;
      this.visible[this.head] = undefined as never;
      this.head += 1;
      if (message.state !== 'visible') continue; // deleted or purged while it waited
      this.visibleCount -= 1;
      this.inflightCount += 1;
      message.state = 'inflight';
      message.receiveCount += 1;
      if (message.receiveCount === 1) message.firstReceiveTimestamp = Date.now();
      message.receiptHandle = Buffer.from(`${message.id}:${randomUUID()}`, 'utf8').toString('base64url');
      this.armVisibility(message, timeoutSeconds);
      taken.push(message);
    }
    // Compact the FIFO once its consumed front is both large and most of it.
    if (this.head > 1024 && this.head * 2 > this.visible.length) {
      this.visible = this.visible.slice(this.head);
      this.head = 0;
    }
    return taken;
  }

  /** Like take, but waits up to `waitSeconds` for a first message (long polling). */
  receive(max: number, waitSeconds: number, visibilityTimeoutSeconds?: number): Promise<StoredMessage[]> {
    const taken = this.take(max, visibilityTimeoutSeconds);
    if (taken.length > 0 || waitSeconds <= 0) return Promise.resolve(taken);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        max,
        visibilityTimeoutSeconds,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve([]);
        }, waitSeconds * 1000),
      };
      waiter.timer.unref(); // a pending long poll never keeps the process alive
      this.waiters.push(waiter);
    });
  }

  private armVisibility(message: StoredMessage, timeoutSeconds: number): void {
    if (message.timer) clearTimeout(message.timer);
    message.timer = setTimeout(() => this.visibilityExpired(message), timeoutSeconds * 1000);
    message.timer.unref();
  }

  /** Back to visible — or, after maxReceiveCount receives, to the dead-letter queue (as the emulator did). */
  private visibilityExpired(message: StoredMessage): void {
    if (message.state !== 'inflight') return;
    this.inflightCount -= 1;
    const policy = this.redrivePolicy;
    const deadLetterQueue = policy ? this.service.byArn(policy.deadLetterTargetArn) : undefined;
    if (policy && deadLetterQueue && message.receiveCount >= policy.maxReceiveCount) {
      this.forget(message);
      deadLetterQueue.send(message.body, {
        id: message.id,
        delaySeconds: 0,
        ...(message.messageAttributes ? { messageAttributes: message.messageAttributes } : {}),
        deadLetterSourceArn: this.arn,
      });
      return;
    }
    this.makeVisible(message);
  }

  private forget(message: StoredMessage): void {
    if (message.timer) clearTimeout(message.timer);
    message.timer = undefined;
    message.state = 'gone';
    this.messages.delete(message.id);
  }

  /** The message a receipt handle names, if it still exists; undefined for a handle that is not one of ours. */
  private byHandle(receiptHandle: string): { valid: boolean; message?: StoredMessage } {
    let decoded: string;
    try {
      decoded = Buffer.from(receiptHandle, 'base64url').toString('utf8');
    } catch {
      return { valid: false };
    }
    const colon = decoded.indexOf(':');
    if (colon <= 0) return { valid: false };
    const message = this.messages.get(decoded.slice(0, colon));
    return message ? { valid: true, message } : { valid: true };
  }

  /** False when the handle is not a receipt handle of this queue; deleting a message already gone succeeds. */
  delete(receiptHandle: string): boolean {
    const { valid, message } = this.byHandle(receiptHandle);
    if (!valid) return false;
    if (!message) return true;
    if (message.state === 'inflight') this.inflightCount -= 1;
    else if (message.state === 'visible') this.visibleCount -= 1;
    else if (message.state === 'delayed') this.delayedCount -= 1;
    this.forget(message);
    return true;
  }

  /** 'invalid' handle, 'not-inflight' message (AWS's MessageNotInflight), or done. */
  changeVisibility(receiptHandle: string, timeoutSeconds: number): 'ok' | 'invalid' | 'not-inflight' {
    const { valid, message } = this.byHandle(receiptHandle);
    if (!valid) return 'invalid';
    if (message?.state !== 'inflight') return 'not-inflight';
    if (timeoutSeconds === 0) {
      if (message.timer) clearTimeout(message.timer);
      this.inflightCount -= 1;
      this.makeVisible(message);
    } else {
      this.armVisibility(message, timeoutSeconds);
    }
    return 'ok';
  }

  /**
   * Every message, whatever its state, out of the queue at once, oldest first. For the local stack's stop
   * (queue-snapshot.ts): its consumers are gone by then, so an in-flight message is only waiting to be visible
   * again, and waiting out its timeout (up to 12 h) would be a stop that hangs or a snapshot that loses it. One whose
   * receives reached the redrive policy's count is what that expiry would dead-letter, and is flagged so.
   */
  takeEverything(): { message: StoredMessage; deadLetter: boolean }[] {
    const maxReceiveCount = this.redrivePolicy?.maxReceiveCount ?? Number.POSITIVE_INFINITY;
    const taken = [...this.messages.values()].map((message) => ({
      message,
      deadLetter: message.state === 'inflight' && message.receiveCount >= maxReceiveCount,
    }));
    this.purge();
    return taken;
  }

  purge(): void {
    for (const message of this.messages.values()) this.forget(message);
    this.visible = [];
    this.head = 0;
    this.visibleCount = 0;
    this.inflightCount = 0;
    this.delayedCount = 0;
  }

  /** Every visible message moved to `destination` (or back to the queue it was dead-lettered from). */
  moveVisibleTo(destination: LocalQueue | undefined): { moved: number; failure?: string } {
    let moved = 0;
    const batch = this.take(Number.POSITIVE_INFINITY, 0);
    for (const message of batch) {
      const target =
        destination ??
        (message.deadLetterSourceArn ? this.service.byArn(message.deadLetterSourceArn) : undefined);
      if (!target) {
        // Unknown source: the message stays, visible again, and the task fails as AWS's does.
        this.changeVisibility(message.receiptHandle, 0);
        return { moved, failure: 'CouldNotDetermineMessageSource' };
      }
      this.forget(message);
      this.inflightCount -= 1;
      target.send(message.body, {
        ...(message.messageAttributes ? { messageAttributes: message.messageAttributes } : {}),
      });
      moved += 1;
    }
    return { moved };
  }
}

export class QueueService {
  private readonly queues = new Map<string, LocalQueue>();

  constructor(private readonly origin: () => string) {}

  create(name: string, attributes: Record<string, string>): LocalQueue {
    const queue = new LocalQueue(name, this.origin(), attributes, this);
    this.queues.set(name, queue);
    return queue;
  }

  byName(name: string): LocalQueue | undefined {
    return this.queues.get(name);
  }

  /** The queue a QueueUrl names (its last path segment, as SQS resolves it). */
  byUrl(url: string): LocalQueue | undefined {
    return this.queues.get(url.slice(url.lastIndexOf('/') + 1));
  }

  byArn(arn: string): LocalQueue | undefined {
    return this.queues.get(arn.slice(arn.lastIndexOf(':') + 1));
  }

  list(prefix = ''): LocalQueue[] {
    return [...this.queues.values()].filter((q) => q.name.startsWith(prefix));
  }

  remove(name: string): void {
    this.queues.get(name)?.purge();
    this.queues.delete(name);
  }
}
