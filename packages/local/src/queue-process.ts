// The local SQS as a service of its own, as SQS is in AWS: this child process holds the queues (queue-service/)
// and serves them twice — over HTTP in the AWS JSON protocol, for the AWS SDK (tests, CLI, console, snapshot), and
// over its IPC channel, where the stack's batching sender and poller send the same actions without the loopback
// HTTP round trip (queue-channel.ts). Both reach the same function (runAction), so they cannot disagree. Started by
// startLocalQueues({ service: 'payhooks', inChildProcess: true }); exits with its parent.

import { exitWithParent } from './child-process.ts';
import {
  type QueueChannelAnswer,
  type QueueChannelReply,
  type QueueChannelRequest,
  TAKE_EVERYTHING,
} from './queue-channel.ts';
import { type ActionAnswer, runAction } from './queue-service/actions.ts';
import { serveQueuesOverHttp } from './queue-service/http.ts';
import { QueueService, type StoredMessage } from './queue-service/model.ts';
import type { SnapshotMessage } from './queue-snapshot.ts';

let origin = '';
const service = new QueueService(() => origin);
const server = await serveQueuesOverHttp(service, { port: Number(process.env.SQS_EMULATOR_PORT ?? 0) });
origin = `http://127.0.0.1:${server.port}`;
exitWithParent(() => server.close());
// Answers of one turn go back together (queue-channel.ts); a long poll simply answers in a later turn.
let outbox: QueueChannelAnswer[] = [];
const answer = (one: QueueChannelAnswer) => {
  if (outbox.length === 0)
    setImmediate(() => {
      const answers = outbox;
      outbox = [];
      process.send!({ type: 'sqs-answers', answers } satisfies QueueChannelReply);
    });
  outbox.push(one);
};

const snapshotMessage = (message: StoredMessage): SnapshotMessage => ({
  body: message.body,
  ...(message.messageAttributes ? { attributes: message.messageAttributes } : {}),
  messageId: message.id,
  receiveCount: message.receiveCount,
});

/** TAKE_EVERYTHING: the main queue's messages (those its redrive would dead-letter with the DLQ's) and the DLQ's. */
async function takeEverything(body: unknown): Promise<ActionAnswer> {
  const { QueueUrl, DeadLetterQueueUrl } = body as { QueueUrl: string; DeadLetterQueueUrl: string };
  const main = service.byUrl(QueueUrl);
  const dlq = service.byUrl(DeadLetterQueueUrl);
  if (!main || !dlq) return { status: 400, body: { __type: 'QueueDoesNotExist', message: 'no such queue' } };
  const taken = main.takeEverything();
  return {
    status: 200,
    body: {
      main: taken.filter((t) => !t.deadLetter).map((t) => snapshotMessage(t.message)),
      dlq: [
        ...dlq.takeEverything().map((t) => snapshotMessage(t.message)),
        ...taken.filter((t) => t.deadLetter).map((t) => snapshotMessage(t.message)),
      ],
    },
  };
}

process.on('message', (request: QueueChannelRequest) => {
  if (request?.type !== 'sqs-calls') return;
  for (const call of request.calls)
    (call.action === TAKE_EVERYTHING
      ? takeEverything(call.body)
      : runAction(service, call.action, call.body)
    ).then(
      (result) => answer({ id: call.id, ...result }),
      (error: unknown) =>
        answer({ id: call.id, status: 500, body: { __type: 'InternalError', message: String(error) } }),
    );
});
process.send!({ type: 'sqs-ready', port: server.port });
