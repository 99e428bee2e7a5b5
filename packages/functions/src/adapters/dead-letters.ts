// Dead-letter queue operations on any target (the CLI's `payhooks dlq` and the console's operations pages) — a stage, or the local stack through its SQS emulator — through
// the SDK directly. SQS has no peek, so looking is a receive; it is made side-effect free by handing every message
// back (visibility 0) as soon as the look ends, so a replay right after a list finds everything the list showed.
// Attempt counts and failure reasons come from the consumer's own record (delivery_failures), never from
// ApproximateReceiveCount, which every look increments.
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { decodeEnvelope, type Envelope } from '@payhooks/core/envelope';
import { PayhooksError } from '@payhooks/core/errors';
import type { DeliveryFailureSummary } from '@payhooks/core/ledger';

/** SQS reported the dead-letter message move task as FAILED. */
export class MoveTaskFailedError extends PayhooksError {
  constructor(reason: string) {
    super('DLQ_MOVE_TASK_FAILED', `message move task failed: ${reason}`);
  }
}

export interface DeadLetter {
  messageId: string;
  sentAt: string | undefined;
  envelope: Envelope | undefined;
  /** Why the body is not an envelope, when it is not. */
  invalid?: string;
  bodyBytes: number;
}

interface HeldLetter {
  letter: DeadLetter;
  message: Message;
}

/** How long a look holds the messages it has seen; they are handed back at once when it ends. */
const HOLD_SECONDS = 60;

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  return Attributes!.QueueArn!;
}

export async function dlqDepth(sqs: SQSClient, dlqUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: dlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

function describe(message: Message): DeadLetter {
  const body = message.Body ?? '';
  let envelope: Envelope | undefined;
  let invalid: string | undefined;
  try {
    envelope = decodeEnvelope(body);
  } catch (error) {
    invalid = (error as Error).message;
  }
  return {
    messageId: message.MessageId!,
    sentAt: message.Attributes?.SentTimestamp
      ? new Date(Number(message.Attributes.SentTimestamp)).toISOString()
      : undefined,
    envelope,
    ...(invalid ? { invalid } : {}),
    bodyBytes: Buffer.byteLength(body),
  };
}

const chunks = <T>(items: readonly T[], size = 10): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Makes held messages visible again at once (visibility 0). */
async function release(sqs: SQSClient, dlqUrl: string, held: readonly HeldLetter[]): Promise<void> {
  for (const part of chunks(held)) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: dlqUrl,
        Entries: part.map((h, i) => ({
          Id: String(i),
          ReceiptHandle: h.message.ReceiptHandle!,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

/**
 * Receives up to `limit` dead letters, holds them while `use` runs, and hands back every message `use` did not
 * consume (returned ids are consumed: deleted or moved). Held messages also come back by themselves after 60 s
 * if the process dies mid-look.
 */
async function withDeadLetters<T>(
  sqs: SQSClient,
  dlqUrl: string,
  limit: number,
  use: (held: HeldLetter[]) => Promise<{ result: T; consumed: ReadonlySet<string> }>,
): Promise<T> {
  const seen = new Map<string, HeldLetter>();
  try {
    while (seen.size < limit) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: Math.min(10, limit - seen.size),
          VisibilityTimeout: HOLD_SECONDS,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
          AttributeNames: ['All'],
        }),
      );
      const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
      if (Messages.length === 0) break;
      // A message seen before came back (a look longer than the hold): keep its newest receipt handle.
      for (const m of Messages) {
        const known = seen.get(m.MessageId!);
        if (known) known.message = m;
      }
      for (const message of fresh) seen.set(message.MessageId!, { letter: describe(message), message });
      if (fresh.length === 0) break;
    }
  } catch (error) {
    await release(sqs, dlqUrl, [...seen.values()]).catch(() => {});
    throw error;
  }
  let consumed: ReadonlySet<string> = new Set();
  try {
    const outcome = await use([...seen.values()]);
    consumed = outcome.consumed;
    return outcome.result;
  } finally {
    await release(
      sqs,
      dlqUrl,
      [...seen.values()].filter((h) => !consumed.has(h.letter.messageId)),
    );
  }
}

/** Reads up to `limit` dead letters and hands them all back: a look changes nothing a replay would see. */
export async function listDeadLetters(sqs: SQSClient, dlqUrl: string, limit = 100): Promise<DeadLetter[]> {
  return withDeadLetters(sqs, dlqUrl, limit, async (held) => ({
    result: held.map((h) => h.letter),
    consumed: new Set(),
  }));
}

/** Which dead letters a replay re-drives; every given criterion must hold. */
export interface DeadLetterSelection {
  eventIds?: readonly string[];
  provider?: string;
  eventType?: string;
  /** The last failure's code as the consumer recorded it (delivery_failures). */
  errorCode?: string;
  /** Envelope receivedAt (when the ingress accepted the callback) at or after `since`, before `until`. */
  since?: Date;
  until?: Date;
}

export function isSelective(selection: DeadLetterSelection): boolean {
  return Object.values(selection).some((v) => v !== undefined && !(Array.isArray(v) && v.length === 0));
}

export function selects(
  selection: DeadLetterSelection,
  letter: DeadLetter,
  failure: DeliveryFailureSummary | undefined,
): boolean {
  const e = letter.envelope;
  if (selection.eventIds?.length && !(e && selection.eventIds.includes(e.eventId))) return false;
  if (selection.provider && e?.provider !== selection.provider) return false;
  if (selection.eventType && e?.eventType !== selection.eventType) return false;
  if (selection.errorCode && failure?.errorCode !== selection.errorCode) return false;
  if (selection.since || selection.until) {
    const at = e ? Date.parse(e.receivedAt) : Number.NaN;
    if (!Number.isFinite(at)) return false;
    if (selection.since && at < selection.since.getTime()) return false;
    if (selection.until && at >= selection.until.getTime()) return false;
  }
  return true;
}

/** Failure reasons by dead letter (delivery_failures, read locally or through the stage's operations function). */
export type FailureLookup = (letters: readonly DeadLetter[]) => Promise<Map<string, DeliveryFailureSummary>>;

export interface SelectiveReplayResult {
  /** Message ids the selection matched. */
  selected: string[];
  /** Sent to the main queue and deleted from the DLQ. */
  moved: string[];
  /** Sent to the main queue but still in the DLQ (its delete failed): it will be applied at most once anyway. */
  sentNotDeleted: string[];
  /** Not sent: still in the DLQ. */
  notSent: string[];
}

/**
 * Re-drives only the selected dead letters: each is sent to the main queue with its body unchanged, then deleted
 * from the DLQ; everything else is handed back. (A message move task cannot select, so this is SendMessage +
 * DeleteMessage; the inbox absorbs a copy sent twice.)
 */
export async function replaySelected(
  sqs: SQSClient,
  options: {
    dlqUrl: string;
    queueUrl: string;
    /** Message ids to re-drive among what the look found (may ask for failure reasons first). */
    choose: (letters: DeadLetter[]) => Promise<ReadonlySet<string>>;
    limit?: number;
    onProgress?: (moved: number, selected: number) => void;
  },
): Promise<SelectiveReplayResult> {
  return withDeadLetters(sqs, options.dlqUrl, options.limit ?? 10_000, async (held) => {
    const ids = await options.choose(held.map((h) => h.letter));
    const chosen = held.filter((h) => ids.has(h.letter.messageId));
    const result: SelectiveReplayResult = {
      selected: chosen.map((h) => h.letter.messageId),
      moved: [],
      sentNotDeleted: [],
      notSent: [],
    };
    for (const part of chunks(chosen)) {
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: part.map((h, i) => ({ Id: String(i), MessageBody: h.message.Body ?? '' })),
        }),
      );
      const sentIds = new Set((sent.Successful ?? []).map((s) => Number(s.Id)));
      const toDelete = part.filter((_, i) => sentIds.has(i));
      result.notSent.push(...part.filter((_, i) => !sentIds.has(i)).map((h) => h.letter.messageId));
      if (toDelete.length > 0) {
        const deleted = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: options.dlqUrl,
            Entries: toDelete.map((h, i) => ({ Id: String(i), ReceiptHandle: h.message.ReceiptHandle! })),
          }),
        );
        const deletedIds = new Set((deleted.Successful ?? []).map((s) => Number(s.Id)));
        for (const [i, h] of toDelete.entries())
          (deletedIds.has(i) ? result.moved : result.sentNotDeleted).push(h.letter.messageId);
      }
      options.onProgress?.(result.moved.length, chosen.length);
    }
    // Sent copies whose delete failed are handed back too: they stay visible in the DLQ for the next look.
    return { result, consumed: new Set(result.moved) };
  });
}

export interface ReplayProgress {
  moved: number;
  total: number | undefined;
  status: string;
}

/** Moves every DLQ message back to its source queue and reports progress until the task ends. */
export async function replayDeadLetters(
  sqs: SQSClient,
  dlqUrl: string,
  options: { maxPerSecond?: number; onProgress?: (progress: ReplayProgress) => void; pollMs?: number } = {},
): Promise<ReplayProgress> {
  const sourceArn = await queueArn(sqs, dlqUrl);
  const { TaskHandle } = await sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: sourceArn,
      ...(options.maxPerSecond ? { MaxNumberOfMessagesPerSecond: options.maxPerSecond } : {}),
    }),
  );
  for (;;) {
    const { Results = [] } = await sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }),
    );
    // The most recent task is first; prefer ours by handle where the service reports it.
    const task = Results.find((t) => TaskHandle && t.TaskHandle === TaskHandle) ?? Results[0];
    const progress: ReplayProgress = {
      moved: Number(task?.ApproximateNumberOfMessagesMoved ?? 0),
      total:
        task?.ApproximateNumberOfMessagesToMove === undefined
          ? undefined
          : Number(task.ApproximateNumberOfMessagesToMove),
      status: task?.Status ?? 'UNKNOWN',
    };
    options.onProgress?.(progress);
    if (progress.status !== 'RUNNING') {
      if (progress.status === 'FAILED')
        throw new MoveTaskFailedError(task?.FailureReason ?? 'no reason given');
      return progress;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}

export async function purgeDeadLetters(sqs: SQSClient, dlqUrl: string): Promise<void> {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: dlqUrl }));
}
