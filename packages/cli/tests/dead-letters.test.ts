// DLQ tools against the SQS emulator through the real AWS SDK: looking hands every message back at once (a replay
// right after a list moves what the list showed, a second look still finds it), a move task replays everything,
// purge empties the queue.
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
  it('lists without hiding, replays exactly what was listed, and purges', async () => {
    for (const n of [1, 2, 3])
      await queues.client.send(
        new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: envelope(n) }),
      );
    await queues.client.send(
      new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: 'not an envelope' }),
    );
    await exhaust(4);

    const letters = await listDeadLetters(queues.client, queues.dlqUrl, 10);
    const described = letters.map((l) => l.envelope?.eventId ?? l.invalid).sort();
    expect(described).toEqual(['evt_dead1', 'evt_dead2', 'evt_dead3', 'queue message is not JSON']);
    // Looking is side-effect free: a second look, straight after, finds the same four.
    const again = await listDeadLetters(queues.client, queues.dlqUrl, 10);
    expect(again.map((l) => l.messageId).sort()).toEqual(letters.map((l) => l.messageId).sort());

    // …and a move task started straight after a look moves all of them (it moved 0 while looks hid them).
    const progress: number[] = [];
    const result = await replayDeadLetters(queues.client, queues.dlqUrl, {
      pollMs: 50,
      onProgress: (p) => progress.push(p.moved),
    });
    expect(result.status).toBe('COMPLETED');
    expect(result.moved).toBe(letters.length);
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
