// The consumer's Lambda containers, each a child process (consumer-container.ts) with one database connection:
// an invocation goes to an idle container over IPC; one that outlives the function timeout fails its batch and
// its container is killed and replaced, as Lambda does. The metric counts each invocation reports are added to
// the parent's MemoryMetrics, so `stack.metrics.consumer` answers as if the handler ran in this process.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import type { Env } from '@payhooks/functions/config';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { endChild, firstMessage, spawnTsChild } from './child-process.ts';
import { ChildExitedError, ContainerInvocationError, InvocationTimeoutError } from './errors.ts';

export type ContainerRequest = { type: 'invoke'; id: number; event: SQSEvent };
export type ContainerReply =
  | { type: 'ready' }
  | {
      type: 'result';
      id: number;
      ok: true;
      response: SQSBatchResponse | undefined;
      counts: [string, number][];
    }
  | {
      type: 'result';
      id: number;
      ok: false;
      /** `code` when the thrown error was a PayhooksError. */
      error: { name: string; message: string; code?: string };
      counts: [string, number][];
    };

export interface ContainerPoolOptions {
  /** The handler's environment (DATABASE_URL, DB_MAX_CONNECTIONS=1, …). */
  env: Env;
  /** Containers started up front: the consumer concurrency. */
  size: number;
  timeoutMs: number;
  metrics: MemoryMetrics;
  logFile: string;
  logLevel: string;
}

export interface ContainerPool {
  invoke(event: SQSEvent): Promise<SQSBatchResponse | undefined>;
  /** Resolves once the containers started up front can take an invocation. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

interface Container {
  child: ChildProcess;
  ready: Promise<unknown>;
  exited: boolean;
  waiting?: {
    id: number;
    resolve: (reply: ContainerReply & { type: 'result' }) => void;
    reject: (e: Error) => void;
  };
}

const script = fileURLToPath(new URL('./consumer-container.ts', import.meta.url));

export function startContainerPool(options: ContainerPoolOptions): ContainerPool {
  const live = new Set<Container>();
  let stopping = false;
  let nextId = 0;

  const spawnContainer = (): Container => {
    const child = spawnTsChild(script, {
      ...options.env,
      PAYHOOKS_LOG_FILE: options.logFile,
      PAYHOOKS_LOG_LEVEL: options.logLevel,
    });
    const container: Container = {
      child,
      exited: false,
      ready: firstMessage(
        child,
        (m): m is ContainerReply => (m as ContainerReply)?.type === 'ready',
        'a consumer container',
      ),
    };
    container.ready.catch(() => {}); // surfaced by the invocation that waits for it
    child.on('message', (reply: ContainerReply) => {
      if (reply.type === 'result' && container.waiting?.id === reply.id) container.waiting.resolve(reply);
    });
    child.on('exit', (code, signal) => {
      container.exited = true;
      live.delete(container);
      container.waiting?.reject(
        new ChildExitedError(`consumer container exited (code ${code}, signal ${signal})`),
      );
    });
    live.add(container);
    return container;
  };

  const idle = Array.from({ length: options.size }, spawnContainer);
  const takeIdle = (): Container => {
    for (let container = idle.pop(); container; container = idle.pop())
      if (!container.exited) return container;
    return spawnContainer();
  };

  const run = async (container: Container, event: SQSEvent) => {
    await container.ready;
    const id = nextId++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await new Promise<ContainerReply & { type: 'result' }>((resolve, reject) => {
        container.waiting = { id, resolve, reject };
        timer = setTimeout(() => reject(new InvocationTimeoutError(options.timeoutMs)), options.timeoutMs);
        container.child.send({ type: 'invoke', id, event } satisfies ContainerRequest);
      });
      for (const [key, value] of reply.counts)
        options.metrics.counts.set(key, (options.metrics.counts.get(key) ?? 0) + value);
      if (reply.ok) return reply.response;
      throw new ContainerInvocationError(reply.error);
    } finally {
      clearTimeout(timer);
      container.waiting = undefined;
    }
  };

  return {
    async invoke(event) {
      const container = takeIdle();
      try {
        const response = await run(container, event);
        idle.push(container);
        return response;
      } catch (error) {
        if (error instanceof InvocationTimeoutError) {
          // Lambda throws the timed-out container away; a fresh one takes its place.
          container.child.kill('SIGKILL');
          if (!stopping) idle.push(spawnContainer());
        } else if (!container.exited) {
          idle.push(container);
        }
        throw error;
      }
    },
    async ready() {
      await Promise.all(idle.map((container) => container.ready));
    },
    async stop() {
      stopping = true;
      await Promise.all([...live].map((container) => endChild(container.child)));
    },
  };
}
