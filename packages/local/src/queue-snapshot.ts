// The local SQS keeps its queues in memory; this keeps what they hold across a stop and a start of the local stack
// (docs/decisions.md, "Local queues survive a restart"). At stop — after the gateway stopped acknowledging and the
// poller and the consumers stopped — every message of the main queue and the DLQ, in flight or not, is taken out of
// the queue process at once (TAKE_EVERYTHING over its IPC channel) and written to `<stateDir>/queues/snapshot.json`
// (mode 0600: bodies are payment data); at the next start each is sent again to its queue through the SDK and the
// file is removed. Duplicates after a crash between the two are absorbed by the inbox, as any SQS redelivery is.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { QueueSnapshotError } from './errors.ts';
import { type QueueChannel, TAKE_EVERYTHING } from './queue-channel.ts';

/** A message attribute as SQS's JSON protocol carries it (binary values base64). */
export interface SnapshotAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface SnapshotMessage {
  body: string;
  attributes?: Record<string, SnapshotAttribute>;
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
  /** The queue process's IPC channel: the only way to take in-flight messages without waiting them out. */
  channel?: QueueChannel;
}

export const snapshotFile = (stateDir: string) => path.join(stateDir, 'queues', 'snapshot.json');

/**
 * Writes the queues' messages to the state folder and leaves the queues empty. In-flight ones are taken too: their
 * consumers are stopped, so they are only waiting to be visible again — waiting that out made a busy machine's stop
 * miss the ones whose timeout outlasted the wait, and lose them. Returns the counts saved.
 */
export async function saveQueueSnapshot(
  queues: SnapshotQueues,
  stateDir: string,
): Promise<{ main: number; dlq: number }> {
  if (!queues.channel)
    throw new QueueSnapshotError('the local queues have no IPC channel: their messages cannot be saved');
  const answer = await queues.channel.call(TAKE_EVERYTHING, {
    QueueUrl: queues.queueUrl,
    DeadLetterQueueUrl: queues.dlqUrl,
  });
  if (answer.status !== 200)
    throw new QueueSnapshotError(`the local SQS refused to hand over its messages (status ${answer.status})`);
  const { main, dlq } = answer.body as QueueSnapshot['queues'];
  const file = snapshotFile(stateDir);
  if (main.length + dlq.length > 0) {
    const snapshot: QueueSnapshot = { savedAt: new Date().toISOString(), queues: { main, dlq } };
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, JSON.stringify(snapshot), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
  return { main: main.length, dlq: dlq.length };
}

/** The SDK's form of a saved attribute (binary values as bytes). */
const sdkAttributes = (attributes: Record<string, SnapshotAttribute>) =>
  Object.fromEntries(
    Object.entries(attributes).map(([name, { BinaryValue, ...rest }]) => [
      name,
      BinaryValue === undefined ? rest : { ...rest, BinaryValue: Buffer.from(BinaryValue, 'base64') },
    ]),
  );

async function sendAll(client: SQSClient, queueUrl: string, messages: SnapshotMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    const { Failed = [] } = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((message, index) => ({
          Id: String(index),
          MessageBody: message.body,
          ...(message.attributes ? { MessageAttributes: sdkAttributes(message.attributes) } : {}),
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
