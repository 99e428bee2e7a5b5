// The local SQS as a service of its own, as SQS is in AWS: this child process holds the queues (queue-service/)
// and serves them twice — over HTTP in the AWS JSON protocol, for the AWS SDK (tests, CLI, console, snapshot), and
// over its IPC channel, where the stack's batching sender and poller send the same actions without the loopback
// HTTP round trip (queue-channel.ts). Both reach the same function (runAction), so they cannot disagree. Started by
// startLocalQueues({ service: 'payhooks', inChildProcess: true }); exits with its parent.

import { exitWithParent } from './child-process.ts';
import type { QueueChannelAnswer, QueueChannelReply, QueueChannelRequest } from './queue-channel.ts';
import { runAction } from './queue-service/actions.ts';
import { serveQueuesOverHttp } from './queue-service/http.ts';
import { QueueService } from './queue-service/model.ts';

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
process.on('message', (request: QueueChannelRequest) => {
  if (request?.type !== 'sqs-calls') return;
  for (const call of request.calls)
    runAction(service, call.action, call.body).then(
      (result) => answer({ id: call.id, ...result }),
      (error: unknown) =>
        answer({ id: call.id, status: 500, body: { __type: 'InternalError', message: String(error) } }),
    );
});
process.send!({ type: 'sqs-ready', port: server.port });
