// The local gateway's coalescing queue port (batching-sender.ts): concurrent sends share SendMessageBatch requests
// to the real emulator (read back with the SDK's ReceiveMessage), each send resolves only with its own entry's
// answer, and a failed entry or a missing answer fails exactly the sends it concerns.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { EnqueueError } from '@payhooks/core/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BatchingSender, createBatchingSender, SEND_BATCH_MAX_BYTES } from '../src/batching-sender.ts';
import { type LocalQueues, startLocalQueues } from '../src/sqs.ts';

// A fresh emulator per test: each reads back exactly what it sent.
let queues: LocalQueues;
beforeEach(async () => {
  queues = await startLocalQueues({ visibilityTimeoutSeconds: 30, maxReceiveCount: 3 });
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await queues?.stop();
});

function sender(options: Partial<Parameters<typeof createBatchingSender>[0]> = {}): BatchingSender {
  const created = createBatchingSender({ queueUrl: queues.queueUrl, ...options });
  cleanups.push(() => created.close());
  return created;
}

async function receiveAll(expected: number): Promise<Message[]> {
  const seen = new Map<string, Message>();
  for (let round = 0; round < 50 && seen.size < expected; round++) {
    const { Messages } = await queues.client.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    for (const message of Messages ?? []) seen.set(message.MessageId!, message);
  }
  return [...seen.values()];
}

/** An HTTP server standing in for SQS that answers every request with `respond(entries)`. */
async function front(respond: (entries: { Id: string }[], res: http.ServerResponse) => void) {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => respond(JSON.parse(Buffer.concat(chunks).toString('utf8')).Entries, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('batching sender', () => {
  it('coalesces concurrent sends into batches of ten; every body arrives once, each send gets its own id', async () => {
    const queue = sender();
    const bodies = Array.from({ length: 25 }, (_, i) => JSON.stringify({ n: i, text: 'é"\\\n' }));
    const results = await Promise.all(bodies.map((body) => queue.send(body)));

    expect(queue.stats).toEqual({ requests: 3, entries: 25 });
    const received = await receiveAll(25);
    expect(received.map((m) => m.Body).sort()).toEqual([...bodies].sort());
    // Each send resolved with the id SQS gave its own body.
    const idOf = new Map(received.map((m) => [m.Body!, m.MessageId!]));
    expect(results.map((r) => r.messageId)).toEqual(bodies.map((b) => idOf.get(b)));
  });

  it('does not hold a lone send for company: it goes at the next tick', async () => {
    const queue = sender();
    await queue.send('first');
    await queue.send('second');
    expect(queue.stats).toEqual({ requests: 2, entries: 2 });
    expect((await receiveAll(2)).map((m) => m.Body).sort()).toEqual(['first', 'second']);
  });

  it('starts a new batch before the bodies of one would pass 256 KiB', async () => {
    const queue = sender();
    // Two fit in one request, three do not.
    const big = (c: string) => c.repeat(Math.floor(SEND_BATCH_MAX_BYTES / 2.5));
    const bodies = [big('a'), big('b'), big('c')];
    await Promise.all(bodies.map((body) => queue.send(body)));
    expect(queue.stats.requests).toBe(2);
    expect((await receiveAll(3)).map((m) => m.Body!.slice(0, 1)).sort()).toEqual(['a', 'b', 'c']);
  });

  it('a failed entry fails only its own send', async () => {
    const url = await front((entries, res) => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(
        JSON.stringify({
          Successful: entries
            .filter((e) => e.Id !== '1')
            .map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: md5(`body-${e.Id}`) })),
          Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }],
        }),
      );
    });
    const queue = sender({ endpoint: url });
    const results = await Promise.allSettled([0, 1, 2].map((i) => queue.send(`body-${i}`)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const failure = (results[1] as PromiseRejectedResult).reason;
    expect(failure).toBeInstanceOf(EnqueueError);
    expect(failure.code).toBe('SQS_UNAVAILABLE');
    expect((results[0] as PromiseFulfilledResult<{ messageId: string }>).value.messageId).toBe('m-0');
  });

  it('an entry the answer leaves out, or a wrong MD5, is not taken as accepted', async () => {
    const url = await front((_entries, res) => {
      res.writeHead(200);
      res.end(JSON.stringify({ Successful: [{ Id: '0', MessageId: 'm-0', MD5OfMessageBody: 'not-it' }] }));
    });
    const queue = sender({ endpoint: url });
    const results = await Promise.allSettled([queue.send('x'), queue.send('y')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason.code).toBe('SQS_BAD_ANSWER');
  });

  it('a batch whose first attempt gets no answer is sent again; its sends then succeed', async () => {
    let attempts = 0;
    const url = await front((entries, res) => {
      attempts += 1;
      if (attempts === 1) return res.socket?.destroy();
      res.writeHead(200);
      res.end(
        JSON.stringify({
          Successful: entries.map((e) => ({
            Id: e.Id,
            MessageId: `m-${e.Id}`,
            MD5OfMessageBody: md5(`b${e.Id}`),
          })),
        }),
      );
    });
    const queue = sender({ endpoint: url });
    const results = await Promise.all([queue.send('b0'), queue.send('b1')]);
    expect(results.map((r) => r.messageId)).toEqual(['m-0', 'm-1']);
    expect(attempts).toBe(2);
  });

  it('no answer fails every send of the batch with SQS_UNAVAILABLE', async () => {
    const url = await front((_entries, res) => res.socket?.destroy());
    const queue = sender({ endpoint: url });
    const results = await Promise.allSettled([queue.send('x'), queue.send('y')]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(EnqueueError);
      expect((r as PromiseRejectedResult).reason.code).toBe('SQS_UNAVAILABLE');
    }
  });
});

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');
