// The SQS emulator as a service of its own, as SQS is in AWS: this child process runs `local-aws-sqs`, reports
// its port over IPC and exits with its parent. Started by startLocalQueues({ inChildProcess: true }).
import type { AddressInfo } from 'node:net';
import { createSqsServer } from 'local-aws-sqs';
import { exitWithParent } from './child-process.ts';

const server = await createSqsServer({
  port: Number(process.env.SQS_EMULATOR_PORT ?? 0),
  hostname: '127.0.0.1',
  emulateQueueCreationLifecycle: false,
});
exitWithParent(() => new Promise<void>((resolve) => server.close(() => resolve())));
process.send!({ type: 'sqs-ready', port: (server.address() as AddressInfo).port });
