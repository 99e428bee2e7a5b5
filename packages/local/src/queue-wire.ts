// The poller's side of the queue: what the Lambda event-source mapping asks SQS (ReceiveMessage,
// DeleteMessageBatch, ChangeMessageVisibilityBatch, GetQueueAttributes), either through the AWS SDK client (any
// endpoint), as bare AWS JSON 1.0 requests on one keep-alive agent to the local emulator, or as the same bodies
// over the local queue process's IPC channel. Inside AWS the
// mapping's own calls cost the user nothing; locally the SDK client's middleware stack cost about a millisecond of
// CPU per call in the gateway's process (docs/benchmarks.md, "Where the time goes"), so the local stack speaks to
// its emulator directly. The emulator does not check signatures; nothing here is ever sent to AWS.
import http from 'node:http';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { PayhooksError } from '@payhooks/core/errors';
import type { QueueChannel } from './queue-channel.ts';

export interface ReceiptEntry {
  Id: string;
  ReceiptHandle: string;
}

export interface EventSourceQueue {
  /** Up to `max` (≤ 10) messages with all system attributes; [] when none are visible. */
  receive(max: number): Promise<Message[]>;
  /** Entries SQS could not delete are returned (by Id). */
  deleteBatch(entries: ReceiptEntry[]): Promise<string[]>;
  changeVisibilityBatch(entries: ReceiptEntry[], timeoutSeconds: number): Promise<void>;
  visibilityTimeoutSeconds(): Promise<number>;
  close(): void;
}

/** An answer of the emulator other than success (its AWS JSON error type and HTTP status). */
export class QueueWireError extends PayhooksError {
  constructor(action: string, status: number, type: string) {
    super(
      'LOCAL_SQS_REJECTED',
      `SQS ${action} answered ${status}${type ? ` ${type.replace(/^.*#/, '')}` : ''}`,
    );
  }
}

export function sdkEventSourceQueue(client: SQSClient, queueUrl: string): EventSourceQueue {
  return {
    async receive(max) {
      const response = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: 0,
          // AWS reads MessageSystemAttributeNames; the emulator only the older AttributeNames.
          MessageSystemAttributeNames: ['All'],
          AttributeNames: ['All'],
        }),
      );
      return response.Messages ?? [];
    },
    async deleteBatch(entries) {
      const response = await client.send(
        new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
      );
      return (response.Failed ?? []).map((f) => f.Id!);
    },
    async changeVisibilityBatch(entries, timeoutSeconds) {
      await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: entries.map((e) => ({ ...e, VisibilityTimeout: timeoutSeconds })),
        }),
      );
    },
    async visibilityTimeoutSeconds() {
      const { Attributes } = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['VisibilityTimeout'] }),
      );
      return Number(Attributes?.VisibilityTimeout ?? 30);
    },
    close() {},
  };
}

type QueueCall = <T>(action: string, body: Record<string, unknown>) => Promise<T | undefined>;

/** The mapping's actions as AWS JSON bodies, over any transport that takes an action and a body. */
function jsonEventSourceQueue(queueUrl: string, call: QueueCall, close: () => void): EventSourceQueue {
  const entries = (list: ReceiptEntry[], extra: Record<string, unknown> = {}) =>
    list.map((e) => ({ Id: e.Id, ReceiptHandle: e.ReceiptHandle, ...extra }));
  return {
    async receive(max) {
      // The emulator answers an empty receive with an empty body.
      const answer = await call<{ Messages?: Message[] }>('ReceiveMessage', {
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: 0,
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      });
      return answer?.Messages ?? [];
    },
    async deleteBatch(list) {
      const answer = await call<{ Failed?: { Id: string }[] }>('DeleteMessageBatch', {
        QueueUrl: queueUrl,
        Entries: entries(list),
      });
      return (answer?.Failed ?? []).map((f) => f.Id);
    },
    async changeVisibilityBatch(list, timeoutSeconds) {
      await call('ChangeMessageVisibilityBatch', {
        QueueUrl: queueUrl,
        Entries: entries(list, { VisibilityTimeout: timeoutSeconds }),
      });
    },
    async visibilityTimeoutSeconds() {
      const answer = await call<{ Attributes?: Record<string, string> }>('GetQueueAttributes', {
        QueueUrl: queueUrl,
        AttributeNames: ['VisibilityTimeout'],
      });
      return Number(answer?.Attributes?.VisibilityTimeout ?? 30);
    },
    close,
  };
}

/** The same actions over the local queue process's IPC channel (queue-channel.ts): no loopback HTTP. */
export function channelEventSourceQueue(channel: QueueChannel, queueUrl: string): EventSourceQueue {
  const call: QueueCall = async <T>(action: string, body: Record<string, unknown>) => {
    const answer = await channel.call(action, body);
    if (answer.status !== 200)
      throw new QueueWireError(
        action,
        answer.status,
        String((answer.body as { __type?: unknown } | undefined)?.__type ?? ''),
      );
    return answer.body as T | undefined;
  };
  return jsonEventSourceQueue(queueUrl, call, () => {});
}

/** Bare AWS JSON requests to the local emulator at `queueUrl`'s origin (the emulator serves its own queue URLs). */
export function wireEventSourceQueue(queueUrl: string): EventSourceQueue {
  const endpoint = new URL(queueUrl);
  if (endpoint.protocol !== 'http:')
    throw new PayhooksError(
      'LOCAL_SQS_NOT_LOCAL',
      `the local poller speaks only to a local emulator, not ${endpoint.origin}`,
    );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

  const call: QueueCall = <T>(action: string, fields: Record<string, unknown>) =>
    new Promise<T | undefined>((resolve, reject) => {
      const payload = JSON.stringify(fields);
      const request = http.request(
        {
          agent,
          method: 'POST',
          hostname: endpoint.hostname,
          port: endpoint.port,
          path: '/',
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': `AmazonSQS.${action}`,
            'content-length': Buffer.byteLength(payload),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown;
            try {
              body = text ? JSON.parse(text) : undefined;
            } catch (cause) {
              return reject(
                new QueueWireError(action, response.statusCode ?? 0, `not JSON (${String(cause)})`),
              );
            }
            if (response.statusCode !== 200)
              return reject(
                new QueueWireError(
                  action,
                  response.statusCode ?? 0,
                  String((body as { __type?: unknown })?.__type ?? ''),
                ),
              );
            resolve(body as T | undefined);
          });
        },
      );
      request.on('error', reject);
      request.end(payload);
    });

  return jsonEventSourceQueue(queueUrl, call, () => agent.destroy());
}
