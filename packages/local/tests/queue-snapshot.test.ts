// The local stack's queues across a stop and a start (queue-snapshot.ts): everything the queue process holds —
// visible, in flight for hours, about to be dead-lettered, already dead-lettered — is saved at once and comes back
// to the queue it belongs in. Waiting in-flight messages out lost them on a loaded machine (state-folder.test.ts).
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  ChangeMessageVisibilityCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { restoreQueueSnapshot, saveQueueSnapshot, snapshotFile } from '../src/queue-snapshot.ts';
import { type LocalQueues, startLocalQueues } from '../src/sqs.ts';

const started: LocalQueues[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const queues of started.splice(0)) await queues.stop();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function queuesWithTwoReceives(): Promise<LocalQueues> {
  const queues = await startLocalQueues({
    visibilityTimeoutSeconds: 5,
    maxReceiveCount: 2,
    service: 'payhooks',
    inChildProcess: true,
  });
  started.push(queues);
  return queues;
}

async function receiveOne(
  queues: LocalQueues,
  queueUrl: string,
  visibilityTimeout: number,
): Promise<Message> {
  const { Messages = [] } = await queues.client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 1,
      VisibilityTimeout: visibilityTimeout,
      MessageAttributeNames: ['All'],
    }),
  );
  expect(Messages).toHaveLength(1);
  return Messages[0]!;
}

async function receiveAll(queues: LocalQueues, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await queues.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 600,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
  }
}

const send = (queues: LocalQueues, queueUrl: string, body: string, binary?: Uint8Array) =>
  queues.client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      ...(binary ? { MessageAttributes: { blob: { DataType: 'Binary', BinaryValue: binary } } } : {}),
    }),
  );

describe('the queue snapshot of a stop', () => {
  it('saves in-flight messages without waiting them out; a message at its last receive goes to the DLQ', async () => {
    const before = await queuesWithTwoReceives();
    // "last-receive": received twice (maxReceiveCount 2) and still held: its expiry would dead-letter it.
    await send(before, before.queueUrl, 'last-receive');
    const first = await receiveOne(before, before.queueUrl, 43_200);
    await before.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: before.queueUrl,
        ReceiptHandle: first.ReceiptHandle!,
        VisibilityTimeout: 0,
      }),
    );
    expect((await receiveOne(before, before.queueUrl, 43_200)).Body).toBe('last-receive');
    // "held": in flight for 12 hours, as a consumer stopped mid-batch leaves it; "waiting": visible.
    await send(before, before.queueUrl, 'held');
    await send(before, before.queueUrl, 'waiting', Uint8Array.from([0, 1, 254, 255]));
    expect((await receiveOne(before, before.queueUrl, 43_200)).Body).toBe('held');
    await send(before, before.dlqUrl, 'dead-lettered before');

    const dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-snapshot-'));
    dirs.push(dir);
    expect(await saveQueueSnapshot(before, dir)).toEqual({ main: 2, dlq: 2 });
    expect((await stat(snapshotFile(dir))).mode & 0o777).toBe(0o600);
    expect(await before.depth(before.queueUrl)).toBe(0);
    expect(await before.depth(before.dlqUrl)).toBe(0);

    const after = await queuesWithTwoReceives();
    expect(await restoreQueueSnapshot(after, dir)).toEqual({ main: 2, dlq: 2 });
    await expect(stat(snapshotFile(dir))).rejects.toThrow(/ENOENT/);
    const main = await receiveAll(after, after.queueUrl);
    expect(main.map((m) => m.Body).sort()).toEqual(['held', 'waiting']);
    const waiting = main.find((m) => m.Body === 'waiting')!;
    expect([...(waiting.MessageAttributes?.blob?.BinaryValue ?? [])]).toEqual([0, 1, 254, 255]);
    const dlq = await receiveAll(after, after.dlqUrl);
    expect(dlq.map((m) => m.Body).sort()).toEqual(['dead-lettered before', 'last-receive']);
  });

  it('an empty pair of queues writes no file', async () => {
    const queues = await queuesWithTwoReceives();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-snapshot-'));
    dirs.push(dir);
    expect(await saveQueueSnapshot(queues, dir)).toEqual({ main: 0, dlq: 0 });
    await expect(stat(snapshotFile(dir))).rejects.toThrow(/ENOENT/);
  });
});
