// The parent's side of the local SQS's IPC channel (queue-process.ts): an SQS action and its JSON body out, the
// status and answer body back, matched by id. The stack's batching sender and poller use it instead of loopback
// HTTP: per request it saves the HTTP client and server work and two socket writes on each side, which cost more
// CPU than the action itself (docs/benchmarks.md, case 7). Calls made in one turn of the event loop travel as one
// IPC message, and so do the answers: every message is a write and a wake-up of the other process, which on a
// busy 2-core machine cost more than the actions. Nothing goes through it that AWS would not accept, but for one
// call of the stack's stop: TAKE_EVERYTHING (queue-snapshot.ts).
import type { ChildProcess } from 'node:child_process';
import { ChildExitedError } from './errors.ts';

/**
 * Not an SQS action: body `{ QueueUrl, DeadLetterQueueUrl }`, answer `{ main, dlq }` as SnapshotMessage lists —
 * every message of both queues, in flight or not, taken out at once (LocalQueue#takeEverything). Only over IPC.
 */
export const TAKE_EVERYTHING = 'payhooks.TakeEverything';

export interface QueueChannelCall {
  id: number;
  action: string;
  body: unknown;
}
export interface QueueChannelAnswer {
  id: number;
  status: number;
  body: unknown;
  queryError?: string;
}
export type QueueChannelRequest = { type: 'sqs-calls'; calls: QueueChannelCall[] };
export type QueueChannelReply = { type: 'sqs-answers'; answers: QueueChannelAnswer[] };

export interface QueueChannel {
  call(action: string, body: unknown): Promise<{ status: number; body: unknown }>;
}

export function queueChannel(child: ChildProcess): QueueChannel {
  const waiting = new Map<number, { resolve: (a: QueueChannelAnswer) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let outbox: QueueChannelCall[] = [];
  const flush = () => {
    const calls = outbox;
    outbox = [];
    child.send({ type: 'sqs-calls', calls } satisfies QueueChannelRequest, (error) => {
      if (!error) return;
      for (const call of calls) {
        waiting.get(call.id)?.reject(error);
        waiting.delete(call.id);
      }
    });
  };
  child.on('message', (reply: QueueChannelReply) => {
    if (reply?.type !== 'sqs-answers') return;
    for (const answer of reply.answers) {
      const waiter = waiting.get(answer.id);
      waiting.delete(answer.id);
      waiter?.resolve(answer);
    }
  });
  child.on('exit', () => {
    for (const waiter of waiting.values())
      waiter.reject(new ChildExitedError('the local SQS process exited'));
    waiting.clear();
  });
  return {
    call(action, body) {
      if (!child.connected) return Promise.reject(new ChildExitedError('the local SQS process is gone'));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        if (outbox.length === 0) setImmediate(flush);
        outbox.push({ id, action, body });
      });
    },
  };
}
