// Queue port on SQS (AWS) or the local SQS emulator, through the real AWS SDK. The client is built once per
// container and tuned for the ingress hot path (docs/decisions.md "Lean ingress"): keep-alive sockets, short
// timeouts, and, for a client that only sends, no MD5 of every message body (TLS already protects the bytes
// in transit; the MD5 only re-checks SQS's echo of what it received).
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EnqueueError } from '@payhooks/core/errors';
import type { Queue } from '@payhooks/core/ports';
import { type Env, optional, required } from '../config.ts';

export interface SqsClientOptions {
  /**
   * Skip the SDK's MD5 of message bodies (SendMessage and ReceiveMessage). For clients that only send;
   * receivers keep it. Default false.
   */
  sendOnly?: boolean;
}

export function sqsClientFromEnv(env: Env, options: SqsClientOptions = {}): SQSClient {
  const endpoint = env.SQS_ENDPOINT;
  // The SDK defaults to keep-alive already; explicit agents make it a visible, tested decision.
  const agent = { keepAlive: true, maxSockets: 50 };
  return new SQSClient({
    region: optional(env, 'AWS_REGION', 'us-east-1'),
    maxAttempts: 3,
    ...(options.sendOnly ? { md5: false } : {}),
    // Fail fast: a provider waits for our answer (WeChat gives up after 5 s), and a 5xx makes it retry.
    requestHandler: {
      connectionTimeout: 1000,
      requestTimeout: 2500,
      httpAgent: new HttpAgent(agent),
      httpsAgent: new HttpsAgent(agent),
    },
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
}

export function createSqsQueue(client: SQSClient, queueUrl: string): Queue {
  return {
    async send(body) {
      let messageId: string | undefined;
      try {
        ({ MessageId: messageId } = await client.send(
          new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }),
        ));
      } catch (cause) {
        throw new EnqueueError('ENQUEUE_FAILED', 'SQS SendMessage failed', { cause });
      }
      if (!messageId) throw new EnqueueError('ENQUEUE_FAILED', 'SQS SendMessage returned no MessageId');
      return { messageId };
    },
  };
}

/** The sweeps' queue: a send-only SDK client (the webhooks use the lean sender, adapters/sqs-send.ts). */
export function queueFromEnv(env: Env): Queue {
  return createSqsQueue(sqsClientFromEnv(env, { sendOnly: true }), required(env, 'QUEUE_URL'));
}

// The dead-letter operations (look, selective replay, move task, purge) on the same SDK, for the CLI and the
// console's operations pages; re-exported here because this is the adapter's public module (package exports).
export * from './dead-letters.ts';
