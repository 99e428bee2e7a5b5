// Dead-letter queue operations on any target — a stage, or the local stack through its SQS emulator: list and
// inspect what failed, replay it to the main queue with an SQS message move task (the same call in AWS and
// against the emulator), purge with confirmation.
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { decodeEnvelope, type Envelope } from '@payhooks/core/envelope';
import { MoveTaskFailedError } from '../errors.ts';

export interface DeadLetter {
  messageId: string;
  receiveCount: number;
  sentAt: string | undefined;
  envelope: Envelope | undefined;
  /** Why the body is not an envelope, when it is not. */
  invalid?: string;
  bodyBytes: number;
}

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
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    sentAt: message.Attributes?.SentTimestamp
      ? new Date(Number(message.Attributes.SentTimestamp)).toISOString()
      : undefined,
    envelope,
    ...(invalid ? { invalid } : {}),
    bodyBytes: Buffer.byteLength(body),
  };
}

/**
 * Reads up to `limit` dead letters. SQS has no peek: messages are received with a short visibility timeout
 * and become visible again by themselves (the DLQ has no redrive policy, so this moves nothing).
 */
export async function listDeadLetters(
  sqs: SQSClient,
  dlqUrl: string,
  limit = 100,
  visibilitySeconds = 5,
): Promise<DeadLetter[]> {
  const seen = new Map<string, DeadLetter>();
  while (seen.size < limit) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(10, limit - seen.size),
        VisibilityTimeout: visibilitySeconds,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        AttributeNames: ['All'],
      }),
    );
    const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (fresh.length === 0) break;
    for (const message of fresh) seen.set(message.MessageId!, describe(message));
  }
  return [...seen.values()];
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
  await sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: sourceArn,
      ...(options.maxPerSecond ? { MaxNumberOfMessagesPerSecond: options.maxPerSecond } : {}),
    }),
  );
  for (;;) {
    const { Results = [] } = await sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }),
    );
    const task = Results[0];
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
