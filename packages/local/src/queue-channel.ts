// The parent's side of the local SQS's IPC channel (queue-process.ts): an SQS action and its JSON body out, the
// status and answer body back, matched by id. The stack's batching sender and poller use it instead of loopback
// HTTP: per request it saves the HTTP client and server work and two socket writes on each side, which cost more
// CPU than the action itself (docs/benchmarks.md, case 7). Nothing goes through it that AWS would not accept.
import type { ChildProcess } from 'node:child_process';
import { ChildExitedError } from './errors.ts';

export type QueueChannelRequest = { type: 'sqs'; id: number; action: string; body: unknown };
export type QueueChannelAnswer = {
  type: 'sqs-answer';
  id: number;
  status: number;
  body: unknown;
  queryError?: string;
};

export interface QueueChannel {
  call(action: string, body: unknown): Promise<{ status: number; body: unknown }>;
}

export function queueChannel(child: ChildProcess): QueueChannel {
  const waiting = new Map<number, { resolve: (a: QueueChannelAnswer) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  child.on('message', (answer: QueueChannelAnswer) => {
    if (answer?.type !== 'sqs-answer') return;
    const waiter = waiting.get(answer.id);
    waiting.delete(answer.id);
    waiter?.resolve(answer);
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
        child.send({ type: 'sqs', id, action, body } satisfies QueueChannelRequest, (error) => {
          if (!error) return;
          waiting.delete(id);
          reject(error);
        });
      });
    },
  };
}
