// Queue port on SQS (AWS) or the local SQS emulator, through the real AWS SDK.
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EnqueueError } from '@payhooks/core/errors';
import type { Queue } from '@payhooks/core/ports';
import { type Env, optional, required } from '../config.ts';

export function sqsClientFromEnv(env: Env): SQSClient {
  const endpoint = env.SQS_ENDPOINT;
  return new SQSClient({
    region: optional(env, 'AWS_REGION', 'us-east-1'),
    maxAttempts: 3,
    // Fail fast: a provider waits for our answer (WeChat gives up after 5 s), and a 5xx makes it retry.
    requestHandler: { connectionTimeout: 1000, requestTimeout: 2500 },
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
}

export function createSqsQueue(client: SQSClient, queueUrl: string): Queue {
  return {
    async send(body) {
      try {
        const result = await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
        if (!result.MessageId) throw new Error('SQS returned no MessageId');
        return { messageId: result.MessageId };
      } catch (cause) {
        throw new EnqueueError('ENQUEUE_FAILED', 'SQS SendMessage failed', { cause });
      }
    },
  };
}

export function queueFromEnv(env: Env): Queue {
  return createSqsQueue(sqsClientFromEnv(env), required(env, 'QUEUE_URL'));
}
