// Case 3's consumer containers, each a process of its own (container.ts, bundled with esbuild and forked), and
// what the measurement needs from them: connect all to a fresh database, invoke batches, read their CPU and their
// PostgreSQL backends' CPU from /proc.
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { parseStat } from '../e2e/proc-cpu.ts';
import type { ContainerReply, ContainerRequest } from './container.ts';

type Reply<T extends ContainerReply['type']> = Extract<ContainerReply, { type: T }>;

class Container {
  private nextId = 0;
  private readonly waiting = new Map<string, (reply: ContainerReply) => void>();
  backendPid = 0;
  constructor(readonly child: ChildProcess) {
    child.on('message', (reply: ContainerReply) => {
      const key = reply.type === 'result' ? `result:${reply.id}` : reply.type;
      const resolve = this.waiting.get(key);
      this.waiting.delete(key);
      resolve?.(reply);
    });
    child.on('exit', (code) => {
      for (const resolve of this.waiting.values())
        resolve({ type: 'closed', error: `container exited (${code})` } as never);
      this.waiting.clear();
    });
  }

  ask<T extends ContainerReply['type']>(request: ContainerRequest, type: T): Promise<Reply<T>> {
    const key = request.type === 'invoke' ? `result:${request.id}` : type;
    return new Promise((resolve, reject) => {
      this.waiting.set(key, (reply) =>
        reply.type === type
          ? resolve(reply as Reply<T>)
          : reject(new Error(`consumer container ${this.child.pid} exited`)),
      );
      this.child.send(request);
    });
  }

  invoke(indices: number[]): Promise<number[]> {
    const id = this.nextId++;
    return this.ask({ type: 'invoke', id, indices }, 'result').then((r) => r.failed);
  }
}

export interface ContainerPool {
  size: number;
  /** Connects every container to `url` (a new one-connection client each). */
  connect(url: string, merchantsJson: string, tag: string): Promise<void>;
  invoke(container: number, indices: number[]): Promise<number[]>;
  /** CPU seconds so far: the container processes, and their current PostgreSQL backends. */
  cpuSeconds(): { containers: number; backends: number };
  report(): Promise<{ applied: number; duplicates: number; failureReasons: Record<string, number> }>;
  close(): Promise<void>;
}

async function bundle(dir: string): Promise<string> {
  const outfile = path.join(dir, 'consumer-container.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./container.ts', import.meta.url))],
    outfile,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    bundle: true,
    banner: {
      js: "import { createRequire as __bench_createRequire } from 'module'; const require = __bench_createRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
  return outfile;
}

const ticks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

const cpuOf = (pid: number) => {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).self / (ticks || 100);
  } catch {
    return 0;
  }
};

/** `size` containers, each loaded with the workload's queue messages (`bodies`) before anything is timed. */
export async function startContainerPool(size: number, bodies: readonly string[]): Promise<ContainerPool> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'payhooks-bench-consumer-'));
  const file = await bundle(dir);
  const profileDir = process.env.CONSUMER_CONTAINER_PROFILE;
  const containers = Array.from(
    { length: size },
    () =>
      new Container(
        fork(file, [], {
          // CONSUMER_CONTAINER_PROFILE=DIR: each container writes a V8 CPU profile there when it exits.
          execArgv: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          env: { PATH: process.env.PATH, PAYHOOKS_BENCH_CHILD: 'consumer-container' },
        }),
      ),
  );
  await Promise.all(containers.map((c) => c.ask({ type: 'load', bodies: [...bodies] }, 'loaded')));
  return {
    size,
    async connect(url, merchantsJson, tag) {
      await Promise.all(
        containers.map(async (c, i) => {
          const reply = await c.ask({ type: 'connect', url, merchantsJson, tag: `${tag}-${i}` }, 'connected');
          c.backendPid = reply.backendPid;
        }),
      );
    },
    invoke: (container, indices) => containers[container]!.invoke(indices),
    cpuSeconds: () => ({
      containers: containers.reduce((sum, c) => sum + cpuOf(c.child.pid!), 0),
      backends: containers.reduce((sum, c) => sum + cpuOf(c.backendPid), 0),
    }),
    async report() {
      const replies = await Promise.all(containers.map((c) => c.ask({ type: 'report' }, 'reported')));
      const failureReasons: Record<string, number> = {};
      for (const r of replies)
        for (const [k, v] of Object.entries(r.failureReasons))
          failureReasons[k] = (failureReasons[k] ?? 0) + v;
      return {
        applied: replies.reduce((s, r) => s + r.applied, 0),
        duplicates: replies.reduce((s, r) => s + r.duplicates, 0),
        failureReasons,
      };
    },
    async close() {
      await Promise.all(containers.map((c) => c.ask({ type: 'close' }, 'closed').catch(() => undefined)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
