// The webhooks' queue port: SendMessage as one SigV4-signed AWS JSON 1.0 request on a keep-alive agent, signed
// with node:crypto (./sigv4.ts, the same signature the SDK's signer makes) and without the SDK client's
// middleware stack, which cost 5× a bare signed request per message (docs/decisions.md "Lean SendMessage"). The poller, CLI and DLQ tools keep
// the SDK client (adapters/sqs.ts); only the hot path of the ingress Lambdas uses this.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { ConfigError, EnqueueError } from '@payhooks/core/errors';
import type { Queue, QueueSendResult } from '@payhooks/core/ports';
import { type Env, optional, required } from '../config.ts';
import { createSigV4Signer, type SigningCredentials } from './sigv4.ts';

export type SqsCredentials = SigningCredentials;

export interface SqsSenderOptions {
  queueUrl: string;
  region: string;
  /** Or a provider, called on each signing (it may throw a ConfigError: the send then fails naming it). */
  credentials: SqsCredentials | (() => Promise<SqsCredentials>);
  /** Where requests go; default the queue URL's origin (as SQS answers for its own queues). */
  endpoint?: string;
  /** One attempt's limit (connect + answer). Default 2000 ms. */
  attemptTimeoutMs?: number;
  /**
   * The whole send, retry included: a provider waits for our answer (WeChat Pay gives up after 5 s) and a 5xx
   * only makes it retry. Default 4000 ms.
   */
  budgetMs?: number;
  /** Compare SQS's MD5OfMessageBody with the body sent (a few µs per message; see decisions.md). Default true. */
  checkMd5?: boolean;
  /** The signing time; tests fix it to compare signatures. */
  now?: () => Date;
}

/** A queue port that can also release its sockets (tests, bench). */
export interface SqsSender extends Queue {
  close(): void;
}

/** Don't start a retry that could not finish: below this much budget left, fail now. */
const MIN_ATTEMPT_MS = 250;
// Throttling answers (HTTP 400 in SQS's JSON protocol) that a second attempt may pass; everything else 4xx is final.
const THROTTLING = /Throttl|RequestThrottled|KmsThrottled|SlowDown|TooManyRequests/;

interface Answer {
  status: number;
  body: string;
  requestId: string | undefined;
}

/** Why an attempt failed, and whether another one could succeed. */
class AttemptFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code: string,
    options?: { cause?: unknown; answered?: boolean },
  ) {
    super(message, options);
    this.answered = options?.answered ?? false;
  }
  /** SQS answered (as opposed to no answer at all). */
  readonly answered: boolean;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export function createSqsSender(options: SqsSenderOptions): SqsSender {
  const endpoint = new URL(options.endpoint ?? new URL(options.queueUrl).origin);
  const secure = endpoint.protocol === 'https:';
  if (!secure && endpoint.protocol !== 'http:')
    throw new ConfigError('CONFIG_INVALID', `SQS endpoint must be http(s), got ${endpoint.protocol}`);
  const transport = secure ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: 50 });
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 2000;
  const budgetMs = options.budgetMs ?? 4000;
  const checkMd5 = options.checkMd5 ?? true;
  const now = options.now ?? (() => new Date());
  const sign = createSigV4Signer();
  const credentialsOf = options.credentials;
  const port = endpoint.port ? Number(endpoint.port) : undefined;
  // The request body is `{"QueueUrl":…,"MessageBody":…}` in the SDK's field order; the prefix never changes.
  const prefix = `{"QueueUrl":${JSON.stringify(options.queueUrl)},"MessageBody":`;

  async function signedRequest(payload: string) {
    const credentials = typeof credentialsOf === 'function' ? await credentialsOf() : credentialsOf;
    return sign({
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AmazonSQS.SendMessage',
        'content-length': String(Buffer.byteLength(payload)),
        host: endpoint.host,
      },
      body: payload,
      region: options.region,
      service: 'sqs',
      credentials,
      signingDate: now(),
    });
  }

  function attempt(headers: Record<string, string>, payload: string, timeoutMs: number): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const request = transport.request(
        { agent, method: 'POST', hostname: endpoint.hostname, port, path: '/', headers },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            clearTimeout(timer);
            const requestId = response.headers['x-amzn-requestid'];
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              requestId: typeof requestId === 'string' ? requestId : undefined,
            });
          });
          response.on('error', fail);
        },
      );
      function fail(cause: unknown) {
        clearTimeout(timer);
        reject(new AttemptFailure('SQS SendMessage: no answer', true, 'SQS_UNAVAILABLE', { cause }));
      }
      const timer = setTimeout(
        () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      request.on('error', fail);
      request.end(payload);
    });
  }

  function check(answer: Answer, body: string): QueueSendResult {
    if (answer.status === 200) {
      let parsed: { MessageId?: unknown; MD5OfMessageBody?: unknown };
      try {
        parsed = JSON.parse(answer.body);
      } catch (cause) {
        throw new AttemptFailure('SQS SendMessage: answer is not JSON', false, 'SQS_BAD_ANSWER', { cause });
      }
      if (typeof parsed.MessageId !== 'string' || parsed.MessageId === '')
        throw new AttemptFailure('SQS SendMessage returned no MessageId', false, 'SQS_BAD_ANSWER');
      if (checkMd5 && parsed.MD5OfMessageBody !== createHash('md5').update(body, 'utf8').digest('hex'))
        throw new AttemptFailure(
          'SQS SendMessage: MD5OfMessageBody does not match the body sent',
          false,
          'SQS_BAD_ANSWER',
        );
      return { messageId: parsed.MessageId };
    }
    // AWS JSON errors carry `__type` ("com.amazonaws.sqs#QueueDoesNotExist"); the message text is left out of
    // ours (it may quote request details), the type and request id are what an operator looks up.
    let type = '';
    try {
      type = String((JSON.parse(answer.body) as { __type?: unknown }).__type ?? '');
    } catch {}
    const retryable = answer.status >= 500 || answer.status === 429 || THROTTLING.test(type);
    const what = `SQS SendMessage answered ${answer.status}${type ? ` ${type.replace(/^.*#/, '')}` : ''}${
      answer.requestId ? ` (request id ${answer.requestId})` : ''
    }`;
    throw new AttemptFailure(what, retryable, retryable ? 'SQS_UNAVAILABLE' : 'SQS_REJECTED', {
      answered: true,
    });
  }

  return {
    async send(body) {
      const deadline = Date.now() + budgetMs;
      const payload = `${prefix}${JSON.stringify(body)}}`;
      let last: AttemptFailure | undefined;
      // Two attempts at most: a stale keep-alive socket, a 5xx or a throttle usually passes the second time;
      // beyond that the provider's own retry (5xx) is the better back-off.
      for (let tries = 0; tries < 2; tries++) {
        const left = deadline - Date.now();
        if (tries > 0 && left < MIN_ATTEMPT_MS) break;
        try {
          // Signed per attempt: the signature carries the time.
          const headers = await signedRequest(payload);
          return check(await attempt(headers, payload, Math.min(attemptTimeoutMs, left)), body);
        } catch (error) {
          if (!(error instanceof AttemptFailure)) {
            // Not an answer from SQS: the request could not be signed (no credentials in the environment).
            const code = error instanceof ConfigError ? error.code : 'SQS_SIGNING_FAILED';
            throw new EnqueueError(code, `SQS SendMessage not sent: ${(error as Error).message}`, {
              cause: error,
            });
          }
          last = error;
          if (!error.retryable) break;
          // A dead keep-alive socket is retried at once; a 5xx or a throttle after a short, jittered pause.
          if (error.answered)
            await pause(Math.min(25 + Math.random() * 75, deadline - Date.now() - MIN_ATTEMPT_MS));
        }
      }
      throw new EnqueueError(last!.code, last!.message, { cause: last!.cause ?? last });
    },
    close() {
      agent.destroy();
    },
  };
}

/**
 * The webhooks' queue: QUEUE_URL, AWS_REGION and the execution role's credentials from the Lambda environment;
 * against a local emulator (SQS_ENDPOINT set) its dummy credentials, as the SDK adapter does.
 */
export function sqsSenderFromEnv(env: Env): SqsSender {
  const queueUrl = required(env, 'QUEUE_URL');
  const local = env.SQS_ENDPOINT;
  for (const [name, value] of [
    ['QUEUE_URL', queueUrl],
    ['SQS_ENDPOINT', local],
  ] as const)
    if (value !== undefined && !URL.canParse(value))
      throw new ConfigError('CONFIG_INVALID', `${name} must be a URL, got "${value}"`);
  let credentials: SqsCredentials | (() => Promise<SqsCredentials>);
  if (local) credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  else if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY)
    credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  // Lambda always sets them; elsewhere (a handler built only to reject, tests) missing ones fail the send, as
  // the SDK's credential chain does, with the variable named in the EnqueueError and its log line.
  else
    credentials = async () => ({
      accessKeyId: required(env, 'AWS_ACCESS_KEY_ID'),
      secretAccessKey: required(env, 'AWS_SECRET_ACCESS_KEY'),
    });
  return createSqsSender({
    queueUrl,
    region: optional(env, 'AWS_REGION', 'us-east-1'),
    credentials,
    ...(local ? { endpoint: local } : {}),
  });
}
