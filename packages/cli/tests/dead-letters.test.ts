// DLQ tools against the SQS emulator through the real AWS SDK: messages that exhausted their receives are
// listed, replayed to the source queue by a message move task, and purged.
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { type LocalQueues, startLocalQueues } from '@payhooks/local/sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dlqDepth, listDeadLetters, purgeDeadLetters, replayDeadLetters } from '../src/stage/dead-letters.ts';

let queues: LocalQueues;
beforeAll(async () => {
  queues = await startLocalQueues({ visibilityTimeoutSeconds: 1, maxReceiveCount: 1 });
});
afterAll(async () => queues?.stop());

const envelope = (n: number) =>
  JSON.stringify({
    v: 1,
    provider: 'stripe',
    eventId: `evt_dead${n}`,
    eventType: 'charge.succeeded',
    account: '',
    occurredAt: '2026-11-23T00:00:00Z',
    receivedAt: '2026-11-23T00:00:01Z',
    rawBody: '{"id":"x"}',
  });

/** Receives without deleting until the redrive policy has moved `count` messages to the DLQ. */
async function exhaust(count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await dlqDepth(queues.client, queues.dlqUrl)) < count) {
    if (Date.now() > deadline) throw new Error('messages never reached the DLQ');
    await queues.client.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
  }
}

describe('dlq tools', () => {
  it('lists, replays and purges dead letters', async () => {
    for (const n of [1, 2, 3])
      await queues.client.send(
        new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: envelope(n) }),
      );
    await queues.client.send(
      new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: 'not an envelope' }),
    );
    await exhaust(4);

    const letters = await listDeadLetters(queues.client, queues.dlqUrl, 10, 1);
    expect(letters.map((l) => l.envelope?.eventId ?? l.invalid).sort()).toEqual([
      'evt_dead1',
      'evt_dead2',
      'evt_dead3',
      'queue message is not JSON',
    ]);
    expect(letters.every((l) => l.receiveCount >= 1)).toBe(true);

    const progress: number[] = [];
    const result = await replayDeadLetters(queues.client, queues.dlqUrl, {
      pollMs: 50,
      onProgress: (p) => progress.push(p.moved),
    });
    expect(result.status).toBe('COMPLETED');
    expect(result.moved).toBe(4);
    expect(await dlqDepth(queues.client, queues.dlqUrl)).toBe(0);
    const back = await queues.client.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(back.Messages?.length).toBe(4);

    await exhaust(4);
    // Purging takes up to 60 s in SQS (and in the emulator); a second purge meanwhile is refused.
    await purgeDeadLetters(queues.client, queues.dlqUrl);
    await expect(purgeDeadLetters(queues.client, queues.dlqUrl)).rejects.toThrow(/PurgeQueue/);
  });
});
