// The local SQS's HTTP face: AWS JSON 1.0 requests (`x-amz-target: AmazonSQS.<Action>`), as the AWS SDK v3 sends
// them, answered by actions.ts. Signatures are not checked: nothing here is AWS, and the port listens on loopback.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runAction } from './actions.ts';
import type { QueueService } from './model.ts';

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';

export interface QueueHttpServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Not an SQS action: what SQS publishes to CloudWatch as ApproximateAgeOfOldestMessage, per queue name (seconds, or
 * null for an empty queue). The local console reads it where a stage's console reads CloudWatch.
 */
export const OLDEST_MESSAGE_AGES_PATH = '/_payhooks/oldest-message-ages';

function oldestMessageAges(service: QueueService): { at: string; queues: Record<string, number | null> } {
  const now = Date.now();
  const queues: Record<string, number | null> = {};
  for (const queue of service.list()) {
    const sent = queue.oldestSentTimestamp();
    queues[queue.name] = sent === undefined ? null : Math.max(0, Math.floor((now - sent) / 1000));
  }
  return { at: new Date(now).toISOString(), queues };
}

export async function serveQueuesOverHttp(
  service: QueueService,
  options: { port: number; hostname?: string },
): Promise<QueueHttpServer> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'GET' && request.url === OLDEST_MESSAGE_AGES_PATH) {
        const text = JSON.stringify(oldestMessageAges(service));
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        });
        response.end(text);
        return;
      }
      const target = String(request.headers['x-amz-target'] ?? '');
      const action = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : '';
      let body: unknown;
      try {
        body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        body = undefined;
      }
      runAction(service, action, body).then(
        (answer) => {
          const text = JSON.stringify(answer.body);
          response.writeHead(answer.status, {
            'content-type': JSON_CONTENT_TYPE,
            'content-length': Buffer.byteLength(text),
            'x-amzn-requestid': crypto.randomUUID(),
            ...(answer.queryError ? { 'x-amzn-query-error': answer.queryError } : {}),
          });
          response.end(text);
        },
        (error: unknown) => {
          const text = JSON.stringify({ __type: 'InternalError', message: String(error) });
          response.writeHead(500, {
            'content-type': JSON_CONTENT_TYPE,
            'content-length': Buffer.byteLength(text),
          });
          response.end(text);
        },
      );
    });
  });
  return new Promise<QueueHttpServer>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
