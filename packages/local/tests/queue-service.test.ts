// payhooks' local SQS service (queue-service/, queue-process.ts), which the local stack runs: SQS semantics through
// the real AWS SDK over HTTP, the IPC channel reaching the same queues, and a property over random operation
// sequences on the model (no message handed out twice while in flight, none lost, counts exact).
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { replayDeadLetters } from '@payhooks/cli/stage/dead-letters';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localQueueAges } from '../src/queue-ages.ts';
import { QueueService } from '../src/queue-service/model.ts';
import { type LocalQueues, startLocalQueues } from '../src/sqs.ts';

let queues: LocalQueues;

beforeAll(async () => {
  queues = await startLocalQueues({
    visibilityTimeoutSeconds: 1,
    maxReceiveCount: 2,
    service: 'payhooks',
    inChildProcess: true,
    queueName: 'queue-service-test',
  });
});
afterAll(() => queues?.stop());

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const receive = (queueUrl: string, visibilityTimeout?: number) =>
  queues.client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
      ...(visibilityTimeout !== undefined ? { VisibilityTimeout: visibilityTimeout } : {}),
    }),
  );

describe('the local SQS service through the AWS SDK', () => {
  it('answers the age of each queue’s oldest message, as SQS publishes it to CloudWatch', async () => {
    const ages = localQueueAges(queues);
    // Empty queues first (other tests of this file leave none behind before this one runs).
    expect(await ages.oldestMessageAge()).toEqual({ main: null, dlq: null });
    const before = Date.now();
    await queues.client.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: 'oldest' }));
    const { main, dlq } = await ages.oldestMessageAge();
    expect(dlq).toBeNull();
    expect(main!.seconds).toBeGreaterThanOrEqual(0);
    expect(main!.seconds).toBeLessThanOrEqual(Math.ceil((Date.now() - before) / 1000));
    const received = await receive(queues.queueUrl, 60);
    for (const m of received.Messages ?? [])
      await queues.client.send(
        new DeleteMessageCommand({ QueueUrl: queues.queueUrl, ReceiptHandle: m.ReceiptHandle! }),
      );
    expect((await ages.oldestMessageAge()).main).toBeNull();
  });

  it('hides a received message, counts its receives, shows it again on visibility 0 and deletes it', async () => {
    const body = `visibility-${Math.random()}`;
    await queues.client.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }));
    const first = await receive(queues.queueUrl, 60);
    const mine = first.Messages?.find((m) => m.Body === body);
    expect(mine?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect((await receive(queues.queueUrl, 60)).Messages?.some((m) => m.Body === body) ?? false).toBe(false);

    await queues.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queues.queueUrl,
        ReceiptHandle: mine!.ReceiptHandle!,
        VisibilityTimeout: 0,
      }),
    );
    const again = (await receive(queues.queueUrl, 60)).Messages?.find((m) => m.Body === body);
    expect(again?.MessageId).toBe(mine!.MessageId);
    expect(again?.Attributes?.ApproximateReceiveCount).toBe('2');
    await queues.client.send(
      new DeleteMessageCommand({ QueueUrl: queues.queueUrl, ReceiptHandle: again!.ReceiptHandle! }),
    );
    expect(await queues.depth(queues.queueUrl)).toBe(0);
  });

  it('moves a message to the DLQ after maxReceiveCount expired receives, and a move task brings it back', async () => {
    const body = `poison-${Math.random()}`;
    const sent = await queues.client.send(
      new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }),
    );
    // Two receives whose visibility expires (the queue's 1 s), then the redrive policy moves it.
    for (let receives = 0; receives < 2; receives++)
      await until(
        async () => ((await receive(queues.queueUrl)).Messages ?? []).some((m) => m.Body === body),
        `receive ${receives + 1}`,
      );
    await until(async () => (await queues.depth(queues.dlqUrl)) === 1, 'the DLQ to hold the message');
    expect(await queues.depth(queues.queueUrl)).toBe(0);
    const dead = (await receive(queues.dlqUrl, 0)).Messages?.[0];
    expect(dead?.Body).toBe(body);
    expect(dead?.MessageId).toBe(sent.MessageId);
    expect(dead?.Attributes?.DeadLetterQueueSourceArn).toMatch(/:queue-service-test$/);

    await until(async () => {
      const { Attributes } = await queues.client.send(
        new GetQueueAttributesCommand({
          QueueUrl: queues.dlqUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      return Attributes?.ApproximateNumberOfMessages === '1';
    }, 'the DLQ message to be visible again');
    const progress = await replayDeadLetters(queues.client, queues.dlqUrl, { pollMs: 20 });
    expect(progress).toMatchObject({ moved: 1, status: 'COMPLETED' });
    const back = (await receive(queues.queueUrl, 60)).Messages ?? [];
    expect(back.map((m) => m.Body)).toEqual([body]);
    await queues.client.send(
      new DeleteMessageCommand({ QueueUrl: queues.queueUrl, ReceiptHandle: back[0]!.ReceiptHandle! }),
    );
  });

  it('answers batch limits and unknown queues with the errors AWS sends', async () => {
    const tooMany = Array.from({ length: 11 }, (_, i) => ({ Id: String(i), MessageBody: 'x' }));
    await expect(
      queues.client.send(new SendMessageBatchCommand({ QueueUrl: queues.queueUrl, Entries: tooMany })),
    ).rejects.toMatchObject({ name: 'TooManyEntriesInBatchRequest' });
    await expect(
      queues.client.send(
        new SendMessageBatchCommand({
          QueueUrl: queues.queueUrl,
          Entries: [
            { Id: 'a', MessageBody: 'x' },
            { Id: 'a', MessageBody: 'y' },
          ],
        }),
      ),
    ).rejects.toMatchObject({ name: 'BatchEntryIdsNotDistinct' });
    await expect(
      queues.client.send(
        new SendMessageCommand({ QueueUrl: `${queues.queueUrl}-missing`, MessageBody: 'x' }),
      ),
    ).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
  });

  it('serves the IPC channel from the same queues as HTTP', async () => {
    expect(queues.channel).toBeDefined();
    const body = `channel-${Math.random()}`;
    const answer = await queues.channel!.call('SendMessageBatch', {
      QueueUrl: queues.queueUrl,
      Entries: [{ Id: '0', MessageBody: body }],
    });
    expect(answer.status).toBe(200);
    const received = (await receive(queues.queueUrl, 60)).Messages ?? [];
    expect(received.map((m) => m.Body)).toEqual([body]);
    const deleted = await queues.channel!.call('DeleteMessageBatch', {
      QueueUrl: queues.queueUrl,
      Entries: [{ Id: 'd', ReceiptHandle: received[0]!.ReceiptHandle }],
    });
    expect(deleted.body).toMatchObject({ Successful: [{ Id: 'd' }], Failed: [] });
    expect(await queues.depth(queues.queueUrl)).toBe(0);
  });
});

describe('the queue model under any sequence of operations', () => {
  type Op =
    | { kind: 'send'; count: number }
    | { kind: 'receive'; max: number }
    | { kind: 'delete'; pick: number }
    | { kind: 'release'; pick: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('send' as const), count: fc.integer({ min: 1, max: 12 }) }),
    fc.record({ kind: fc.constant('receive' as const), max: fc.integer({ min: 1, max: 10 }) }),
    fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
  );

  it('never hands out an in-flight message, loses none, and counts exactly', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const service = new QueueService(() => 'http://local');
        // A long visibility timeout: no timer fires during the run, every transition is an operation's.
        const queue = service.create('q', { VisibilityTimeout: '3600' });
        const sent = new Set<string>();
        const deleted = new Set<string>();
        const inFlight = new Map<string, string>(); // id → latest receipt handle
        for (const step of ops) {
          if (step.kind === 'send')
            for (let i = 0; i < step.count; i++) sent.add(queue.send(`body-${sent.size}`).id);
          else if (step.kind === 'receive') {
            const taken = queue.take(step.max);
            expect(taken.length).toBeLessThanOrEqual(step.max);
            for (const message of taken) {
              expect(inFlight.has(message.id)).toBe(false);
              expect(deleted.has(message.id)).toBe(false);
              inFlight.set(message.id, message.receiptHandle);
            }
          } else if (inFlight.size > 0) {
            const [id, handle] = [...inFlight][step.pick % inFlight.size]!;
            inFlight.delete(id);
            if (step.kind === 'delete') {
              expect(queue.delete(handle)).toBe(true);
              deleted.add(id);
            } else {
              expect(queue.changeVisibility(handle, 0)).toBe('ok');
            }
          }
          const counts = queue.counts();
          expect(counts.inflight).toBe(inFlight.size);
          expect(counts.visible + counts.inflight).toBe(sent.size - deleted.size);
        }
        // Everything not deleted can still be received: nothing was lost.
        for (const handle of inFlight.values()) queue.changeVisibility(handle, 0);
        const rest = queue.take(Number.POSITIVE_INFINITY).map((m) => m.id);
        expect(new Set(rest)).toEqual(new Set([...sent].filter((id) => !deleted.has(id))));
        queue.purge();
      }),
      { numRuns: 200 },
    );
  });
});
