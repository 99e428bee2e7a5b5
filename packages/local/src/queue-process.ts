// The local SQS as a service of its own, as SQS is in AWS: this child process holds the queues (queue-service/)
// and serves them twice — over HTTP in the AWS JSON protocol, for the AWS SDK (tests, CLI, console, snapshot), and
// over its IPC channel, where the stack's batching sender and poller send the same actions without the loopback
// HTTP round trip (queue-channel.ts). Both reach the same function (runAction), so they cannot disagree. Started by
// startLocalQueues({ service: 'payhooks', inChildProcess: true }); exits with its parent.

import { exitWithParent } from './child-process.ts';
import type { QueueChannelAnswer, QueueChannelRequest } from './queue-channel.ts';
import { runAction } from './queue-service/actions.ts';
import { serveQueuesOverHttp } from './queue-service/http.ts';
import { QueueService } from './queue-service/model.ts';

let origin = '';
const service = new QueueService(() => origin);
const server = await serveQueuesOverHttp(service, { port: Number(process.env.SQS_EMULATOR_PORT ?? 0) });
origin = `http://127.0.0.1:${server.port}`;
exitWithParent(() => server.close());
process.on('message', (request: QueueChannelRequest) => {
  if (request?.type !== 'sqs') return;
  void runAction(service, request.action, request.body).then(
    (answer) => process.send!({ type: 'sqs-answer', id: request.id, ...answer } satisfies QueueChannelAnswer),
    (error: unknown) =>
      process.send!({
        type: 'sqs-answer',
        id: request.id,
        status: 500,
        body: { __type: 'InternalError', message: String(error) },
      } satisfies QueueChannelAnswer),
  );
});
process.send!({ type: 'sqs-ready', port: server.port });
