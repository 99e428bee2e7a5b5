// The emulator keeps its queues in memory; this keeps what they hold across a stop and a start of the local stack
// (docs/decisions.md, "Local queues survive a restart"). At stop — after the gateway stopped acknowledging and the
// poller stopped — every message still in the main queue and the DLQ is received through the SDK (in-flight ones
// once their visibility timeout has passed) and written to `<stateDir>/queues/snapshot.json` (mode 0600: bodies
// are payment data); at the next start each is sent again to its queue and the file is removed. Duplicates after
// a crash between the two are absorbed by the inbox, as any SQS redelivery is. Only the emulator's public API is
// used, so it works whatever the emulator does inside.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { QueueSnapshotError } from './errors.ts';

export interface SnapshotMessage {
  body: string;
  attributes?: Record<string, MessageAttributeValue>;
  /** For the operator reading the file: the id and receive count it had before the stop. */
  messageId?: string;
  receiveCount?: number;
}

export interface QueueSnapshot {
  savedAt: string;
  queues: { main: SnapshotMessage[]; dlq: SnapshotMessage[] };
}

export interface SnapshotQueues {
  client: SQSClient;
  queueUrl: string;
  dlqUrl: string;
}

export const snapshotFile = (stateDir: string) => path.join(stateDir, 'queues', 'snapshot.json');

/** Messages received but not yet deleted: ours (taken) and any still in a consumer's hands. */
async function inFlight(client: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/**
 * Takes every message out of the queue: received with a visibility timeout longer than the stop, so none is seen
 * twice; in-flight ones are waited for until `deadline`. Returns what it got and how many it could not get.
 */
async function takeAll(
  client: SQSClient,
  queueUrl: string,
  deadline: number,
): Promise<{ messages: SnapshotMessage[]; missing: number }> {
  const messages: SnapshotMessage[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 43_200,
        // Short polls: the emulator answers from all its messages, and an empty queue must not slow a stop.
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    for (const message of Messages)
      messages.push({
        body: message.Body ?? '',
        ...(message.MessageAttributes ? { attributes: message.MessageAttributes } : {}),
        ...(message.MessageId ? { messageId: message.MessageId } : {}),
        receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
      });
    if (Messages.length > 0) continue;
    // Nothing visible: done unless messages other than ours are still in flight (back after their timeout).
    const others = (await inFlight(client, queueUrl)) - messages.length;
    if (others <= 0) return { messages, missing: 0 };
    if (Date.now() > deadline) return { messages, missing: others };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Writes the queues' messages to the state folder. `waitMs` bounds the wait for in-flight messages (at least the
 * visibility timeout). Returns the counts saved and any that could not be taken in time.
 */
export async function saveQueueSnapshot(
  queues: SnapshotQueues,
  stateDir: string,
  waitMs: number,
): Promise<{ main: number; dlq: number; missing: number }> {
  const deadline = Date.now() + waitMs;
  // The main queue first: a message past maxReceiveCount moves to the DLQ when received.
  const main = await takeAll(queues.client, queues.queueUrl, deadline);
  const dlq = await takeAll(queues.client, queues.dlqUrl, deadline);
  const file = snapshotFile(stateDir);
  if (main.messages.length + dlq.messages.length > 0) {
    const snapshot: QueueSnapshot = {
      savedAt: new Date().toISOString(),
      queues: { main: main.messages, dlq: dlq.messages },
    };
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, JSON.stringify(snapshot), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
  return { main: main.messages.length, dlq: dlq.messages.length, missing: main.missing + dlq.missing };
}

async function sendAll(client: SQSClient, queueUrl: string, messages: SnapshotMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    const { Failed = [] } = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((message, index) => ({
          Id: String(index),
          MessageBody: message.body,
          ...(message.attributes ? { MessageAttributes: message.attributes } : {}),
        })),
      }),
    );
    if (Failed.length > 0)
      throw new QueueSnapshotError(
        `the SQS emulator refused ${Failed.length} messages restored from the snapshot`,
      );
  }
}

/** Sends a saved snapshot's messages back to their queues and removes the file; counts what it restored. */
export async function restoreQueueSnapshot(
  queues: SnapshotQueues,
  stateDir: string,
): Promise<{ main: number; dlq: number }> {
  const file = snapshotFile(stateDir);
  let snapshot: QueueSnapshot;
  try {
    snapshot = JSON.parse(await readFile(file, 'utf8')) as QueueSnapshot;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { main: 0, dlq: 0 };
    throw new QueueSnapshotError(
      `${file} cannot be read (${(error as Error).message}): move it aside to start without its messages`,
    );
  }
  await sendAll(queues.client, queues.dlqUrl, snapshot.queues.dlq);
  await sendAll(queues.client, queues.queueUrl, snapshot.queues.main);
  await rm(file, { force: true });
  return { main: snapshot.queues.main.length, dlq: snapshot.queues.dlq.length };
}
