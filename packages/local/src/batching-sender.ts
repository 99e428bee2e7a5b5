// The local gateway's queue port: the webhooks' concurrent SendMessages coalesced into SendMessageBatch requests
// (≤ 10 entries, ≤ 256 KiB) to the local emulator. On the local box every loopback request costs CPU on both
// sides (the emulator's HTTP server, Node's client), and the gateway serves many callbacks at once; in AWS each
// Lambda invocation handles one callback and sends its own message (adapters/sqs-send.ts), so this exists only
// here. A batch goes out when it is full or at the next turn of the event loop (`setImmediate`: after the I/O
// callbacks that are ready now), so no answer waits longer than one tick for company. Each callback is answered
// only after ITS entry was accepted; a failed entry fails that callback alone (EnqueueError → 503, the provider
// retries). Bare AWS JSON without a signature, as the poller's queue-wire.ts: the emulator checks none, and
// nothing here is ever sent to AWS.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { EnqueueError, PayhooksError } from '@payhooks/core/errors';
import type { Queue, QueueSendResult } from '@payhooks/core/ports';
import type { QueueChannel } from './queue-channel.ts';

export interface BatchingSenderOptions {
  queueUrl: string;
  /** Where requests go; default the queue URL's origin (the emulator serves its own queue URLs). */
  endpoint?: string;
  /** One attempt's limit (connect + answer). Default 2000 ms. */
  attemptTimeoutMs?: number;
  /** The whole send, retry included; a batch still unanswered then fails all its callbacks. Default 4000 ms. */
  budgetMs?: number;
  /** Compare each entry's MD5OfMessageBody with the body sent (as the SDK and the lean sender do). Default true. */
  checkMd5?: boolean;
  /**
   * The local queue process's IPC channel (queue-channel.ts): the batches go there instead of over loopback HTTP,
   * with the same action and body, so the same answers.
   */
  channel?: QueueChannel;
}

export interface BatchingSender extends Queue {
  /** Requests sent and entries in them, for the bench and tests. */
  readonly stats: { requests: number; entries: number };
  close(): void;
}

/** SQS's limits for one SendMessageBatch: 10 entries, 256 KiB of message bodies together. */
export const SEND_BATCH_MAX_ENTRIES = 10;
export const SEND_BATCH_MAX_BYTES = 262_144;
/** Don't start a retry that could not finish: below this much budget left, fail now. */
const MIN_ATTEMPT_MS = 250;

interface Pending {
  body: string;
  resolve: (result: QueueSendResult) => void;
  reject: (error: Error) => void;
}

interface BatchAnswer {
  Successful?: { Id?: string; MessageId?: string; MD5OfMessageBody?: string }[];
  Failed?: { Id?: string; Code?: string; SenderFault?: boolean }[];
}

export function createBatchingSender(options: BatchingSenderOptions): BatchingSender {
  const endpoint = new URL(options.endpoint ?? new URL(options.queueUrl).origin);
  if (endpoint.protocol !== 'http:')
    throw new PayhooksError(
      'LOCAL_SQS_NOT_LOCAL',
      `the local batching sender speaks only to a local emulator, not ${endpoint.origin}`,
    );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 2000;
  const budgetMs = options.budgetMs ?? 4000;
  const checkMd5 = options.checkMd5 ?? true;
  const prefix = `{"QueueUrl":${JSON.stringify(options.queueUrl)},"Entries":[`;
  const stats = { requests: 0, entries: 0 };
  let open: Pending[] = [];
  let openBytes = 0;
  let scheduled: NodeJS.Immediate | undefined;

  function flush(): void {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    const batch = open;
    open = [];
    openBytes = 0;
    if (batch.length > 0) void sendBatch(batch);
  }

  /** One POST; rejects when no complete answer came within `limitMs` (refused, reset, timed out). */
  function post(payload: string, limitMs: number): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          agent,
          method: 'POST',
          hostname: endpoint.hostname,
          port: endpoint.port,
          path: '/',
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': 'AmazonSQS.SendMessageBatch',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', fail);
          response.on('end', () => {
            clearTimeout(timer);
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      function fail(cause: unknown) {
        clearTimeout(timer);
        reject(cause);
      }
      const timer = setTimeout(() => request.destroy(new Error(`no answer within ${limitMs} ms`)), limitMs);
      request.on('error', fail);
      request.end(payload);
    });
  }

  /** The same request over the queue process's IPC channel: the answer comes back parsed already. */
  function viaChannel(
    channel: QueueChannel,
    batch: Pending[],
    limitMs: number,
  ): Promise<{ status: number; answer: unknown }> {
    const body = {
      QueueUrl: options.queueUrl,
      Entries: batch.map((p, i) => ({ Id: String(i), MessageBody: p.body })),
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${limitMs} ms`)), limitMs);
      channel.call('SendMessageBatch', body).then(
        (answer) => {
          clearTimeout(timer);
          resolve({ status: answer.status, answer: answer.body });
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  async function sendBatch(batch: Pending[]): Promise<void> {
    stats.requests += 1;
    stats.entries += batch.length;
    const payload = options.channel
      ? ''
      : `${prefix}${batch.map((p, i) => `{"Id":"${i}","MessageBody":${JSON.stringify(p.body)}}`).join(',')}]}`;
    const failAll = (error: Error) => {
      for (const p of batch) p.reject(error);
    };
    const deadline = Date.now() + budgetMs;
    let lastCause: unknown;
    // Two attempts, as the lean sender makes: a keep-alive socket the emulator just closed, or a 5xx, usually
    // passes the second time. A repeated batch can only duplicate messages, which the consumer's inbox absorbs.
    for (let tries = 0; tries < 2; tries++) {
      const left = deadline - Date.now();
      if (tries > 0 && left < MIN_ATTEMPT_MS) break;
      try {
        const limitMs = Math.min(attemptTimeoutMs, left);
        const answer = options.channel
          ? await viaChannel(options.channel, batch, limitMs)
          : await post(payload, limitMs);
        if (answer.status >= 500 && tries === 0) {
          lastCause = new Error(`answered ${answer.status}`);
          continue;
        }
        settle(batch, answer.status, 'text' in answer ? answer.text : answer.answer, failAll);
        return;
      } catch (cause) {
        lastCause = cause;
      }
    }
    failAll(new EnqueueError('SQS_UNAVAILABLE', 'SQS SendMessageBatch: no answer', { cause: lastCause }));
  }

  /** `answer`: the JSON text of an HTTP answer, or the channel's parsed body. */
  function settle(
    batch: Pending[],
    status: number,
    text: string | unknown,
    failAll: (error: Error) => void,
  ): void {
    let answer: BatchAnswer & { __type?: string };
    try {
      answer = typeof text === 'string' ? JSON.parse(text) : (text as BatchAnswer);
      if (answer === null || typeof answer !== 'object') throw new Error('not an object');
    } catch (cause) {
      failAll(
        new EnqueueError('SQS_BAD_ANSWER', `SQS SendMessageBatch answered ${status}, not JSON`, { cause }),
      );
      return;
    }
    if (status !== 200) {
      const type = String(answer.__type ?? '').replace(/^.*#/, '');
      failAll(
        new EnqueueError(
          status >= 500 ? 'SQS_UNAVAILABLE' : 'SQS_REJECTED',
          `SQS SendMessageBatch answered ${status}${type ? ` ${type}` : ''}`,
        ),
      );
      return;
    }
    const answered = new Set<number>();
    for (const entry of answer.Successful ?? []) {
      const index = Number(entry.Id);
      const pending = batch[index];
      if (!pending || answered.has(index)) continue;
      answered.add(index);
      if (typeof entry.MessageId !== 'string' || entry.MessageId === '')
        pending.reject(new EnqueueError('SQS_BAD_ANSWER', 'SQS SendMessageBatch returned no MessageId'));
      else if (
        checkMd5 &&
        entry.MD5OfMessageBody !== createHash('md5').update(pending.body, 'utf8').digest('hex')
      )
        pending.reject(
          new EnqueueError(
            'SQS_BAD_ANSWER',
            'SQS SendMessageBatch: MD5OfMessageBody does not match the body sent',
          ),
        );
      else pending.resolve({ messageId: entry.MessageId });
    }
    for (const entry of answer.Failed ?? []) {
      const index = Number(entry.Id);
      const pending = batch[index];
      if (!pending || answered.has(index)) continue;
      answered.add(index);
      pending.reject(
        new EnqueueError(
          entry.SenderFault ? 'SQS_REJECTED' : 'SQS_UNAVAILABLE',
          `SQS SendMessageBatch entry failed${entry.Code ? `: ${entry.Code}` : ''}`,
        ),
      );
    }
    // An entry the answer does not mention was not accepted.
    batch.forEach((pending, index) => {
      if (!answered.has(index))
        pending.reject(
          new EnqueueError('SQS_BAD_ANSWER', 'SQS SendMessageBatch did not answer for an entry'),
        );
    });
  }

  return {
    stats,
    send(body) {
      return new Promise<QueueSendResult>((resolve, reject) => {
        const bytes = Buffer.byteLength(body);
        // A body that would overflow the open batch goes into the next one.
        if (open.length > 0 && openBytes + bytes > SEND_BATCH_MAX_BYTES) flush();
        open.push({ body, resolve, reject });
        openBytes += bytes;
        if (open.length >= SEND_BATCH_MAX_ENTRIES) flush();
        else scheduled ??= setImmediate(flush);
      });
    },
    close() {
      flush();
      agent.destroy();
    },
  };
}
