// The local SQS, driven through the real AWS SDK, with a main queue whose redrive policy sends a message to the
// dead-letter queue after maxReceiveCount receives, as in AWS. Two implementations: the `local-aws-sqs` emulator
// (the default), and payhooks' own queue service (queue-service/: constant work per message, and an IPC channel
// for the stack's hot path), which the local stack runs. Either runs in this process or, like the service it
// stands for, in a child process of its own (sqs-process.ts, queue-process.ts).
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MAX_QUEUE_MESSAGE_BYTES } from '@payhooks/core/envelope';
import { createSqsServer } from 'local-aws-sqs';
import { endChild, firstMessage, spawnTsChild } from './child-process.ts';
import { type QueueChannel, queueChannel } from './queue-channel.ts';
import { serveQueuesOverHttp } from './queue-service/http.ts';
import { QueueService } from './queue-service/model.ts';

export interface LocalQueues {
  endpoint: string;
  client: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  /** Messages visible plus in flight (the emulator counts both). */
  depth(queueUrl: string): Promise<number>;
  /** The queue process's IPC channel (payhooks' service in a child process only): the stack's fast path. */
  channel?: QueueChannel;
  stop(): Promise<void>;
}

export interface LocalQueueOptions {
  port?: number;
  queueName?: string;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  /** Run the emulator in a child process (the local stack does), so its CPU is not the caller's thread's. */
  inChildProcess?: boolean;
  /** Which implementation: `local-aws-sqs` (default) or payhooks' own queue service (queue-service/). */
  service?: 'local-aws-sqs' | 'payhooks';
}

interface Emulator {
  port: number;
  channel?: QueueChannel;
  stop(): Promise<void>;
}

async function startEmulator(options: LocalQueueOptions): Promise<Emulator> {
  const ours = options.service === 'payhooks';
  if (options.inChildProcess) {
    const script = fileURLToPath(new URL(ours ? './queue-process.ts' : './sqs-process.ts', import.meta.url));
    const child = spawnTsChild(script, { ...process.env, SQS_EMULATOR_PORT: String(options.port ?? 0) });
    try {
      const ready = await firstMessage(
        child,
        (m): m is { type: 'sqs-ready'; port: number } => (m as { type?: string })?.type === 'sqs-ready',
        'the SQS emulator process',
      );
      return {
        port: ready.port,
        ...(ours ? { channel: queueChannel(child) } : {}),
        stop: () => endChild(child),
      };
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }
  if (ours) {
    let origin = '';
    const server = await serveQueuesOverHttp(new QueueService(() => origin), { port: options.port ?? 0 });
    origin = `http://127.0.0.1:${server.port}`;
    return { port: server.port, stop: () => server.close() };
  }
  const server = await createSqsServer({
    port: options.port ?? 0,
    hostname: '127.0.0.1',
    emulateQueueCreationLifecycle: false,
  });
  return {
    port: (server.address() as AddressInfo).port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function createQueues(
  client: SQSClient,
  name: string,
  options: LocalQueueOptions,
): Promise<{ queueUrl: string; dlqUrl: string }> {
  const dlq = await client.send(
    new CreateQueueCommand({
      QueueName: `${name}-dlq`,
      Attributes: { MessageRetentionPeriod: '1209600', MaximumMessageSize: String(MAX_QUEUE_MESSAGE_BYTES) },
    }),
  );
  const dlqUrl = dlq.QueueUrl!;
  const dlqAttributes = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds),
        // As deployed (stacks/Queue.ts): ingress claim-checks what does not fit this size.
        MaximumMessageSize: String(MAX_QUEUE_MESSAGE_BYTES),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqAttributes.Attributes!.QueueArn,
          maxReceiveCount: options.maxReceiveCount,
        }),
      },
    }),
  );

  return { queueUrl: main.QueueUrl!, dlqUrl };
}

export async function startLocalQueues(options: LocalQueueOptions): Promise<LocalQueues> {
  const emulator = await startEmulator(options);
  const endpoint = `http://127.0.0.1:${emulator.port}`;
  const client = new SQSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const name = options.queueName ?? 'payhooks-events';
  let queueUrl: string;
  let dlqUrl: string;
  try {
    ({ queueUrl, dlqUrl } = await createQueues(client, name, options));
  } catch (error) {
    client.destroy();
    await emulator.stop();
    throw error;
  }

  return {
    endpoint,
    client,
    queueUrl,
    dlqUrl,
    ...(emulator.channel ? { channel: emulator.channel } : {}),
    async depth(queueUrl) {
      const { Attributes } = await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return (
        Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    },
    async stop() {
      client.destroy();
      await emulator.stop();
    },
  };
}
