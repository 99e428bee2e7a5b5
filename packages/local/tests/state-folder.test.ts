// The local runtime never loses what it acknowledged: one stack per state folder (a second `npm start` names the
// holder and exits non-zero, leaving the first one's Postgres alone), only a truly orphaned postmaster is stopped,
// a Postgres that dies is restarted while callbacks keep being accepted, and the queues' messages survive a stop
// and a start.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import {
  buildStripeScenario,
  prng,
  randomWebhookSecret,
  type StripeScenario,
} from '@payhooks/testkit/sandbox/stripe-scenario';
import { type Delivery, planStripeDeliveries, sendDeliveries } from '@payhooks/testkit/sandbox/stripe-sender';
import { createTestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStripeLedger } from '../src/check.ts';
import { isAlive } from '../src/process-info.ts';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../src/stack.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const secret = randomWebhookSecret();

function plan(seed: number, payments: number): { scenario: StripeScenario; deliveries: Delivery[] } {
  const scenario = buildStripeScenario({ seed, payments });
  const deliveries = planStripeDeliveries(scenario, {
    secrets: [secret],
    random: prng(seed),
    duplicateRate: 0,
    forgeries: false,
    now: Math.floor(Date.now() / 1000),
  });
  return { scenario, deliveries };
}

const freePort = () => 40_000 + Math.floor(Math.random() * 10_000);

describe('one stack per state folder, on an embedded PostgreSQL', () => {
  let dir: string;
  let stack: LocalStack;
  const notices: string[] = [];
  const options = (): LocalStackOptions => ({
    stateDir: dir,
    port: 0,
    pgPort: freePort(),
    // Durable settings: this file SIGKILLs the postmaster, and with `fastPostgres` (synchronous_commit=off) the
    // commits of the last WAL-writer interval die with it — under load that lost applied events the consumer had
    // already deleted from the queue, a loss that no real deployment (synchronous commit on) can have.
    fastPostgres: false,
    stripeWebhookSecrets: [secret],
    notice: (line) => notices.push(line),
  });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-state-'));
    await chmod(dir, 0o755); // initdb runs as the postgres user when we are root
    stack = await startLocalStack(options());
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a second npm start on the folder names the holder, exits 1 and leaves the first Postgres running', async () => {
    const pid = stack.postgres!.pid()!;
    const { PORT, DATABASE_URL, ...env } = process.env;
    const second = spawnSync(
      process.execPath,
      ['--disable-warning=NodeVersionSupportWarning', '--import', 'tsx', main, '--exit'],
      {
        env: { ...env, PAYHOOKS_STATE_DIR: dir, PORT: '0', PAYHOOKS_PG_PORT: String(freePort()) },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(second.status).toBe(1);
    expect(second.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^LOCAL_STATE_LOCKED: .* in use by process ${process.pid}\\b`)),
    ]);
    expect(isAlive(pid)).toBe(true);
    const [row] = await stack.sql<{ one: number }[]>`select 1 as one`;
    expect(row?.one).toBe(1);
  });

  it('a killed postmaster is restarted; callbacks sent meanwhile are answered 2xx and all reach the ledger', async () => {
    const { scenario, deliveries } = plan(21, 20);
    const half = Math.floor(deliveries.length / 2);
    const first = await sendDeliveries(stack.gatewayUrl, deliveries.slice(0, half), 4);
    const killed = stack.postgres!.pid()!;
    process.kill(killed, 'SIGKILL');
    const rest = await sendDeliveries(stack.gatewayUrl, deliveries.slice(half), 4);
    const results = [...first, ...rest];
    expect(results.filter((r) => r.status < 200 || r.status > 299)).toEqual([]);

    await stack.drain();
    expect(stack.postgres!.pid()).not.toBe(killed);
    expect(await stack.queues.depth(stack.queues.dlqUrl)).toBe(0);
    expect((await checkStripeLedger(stack.sql, scenario, results)).problems).toEqual([]);
    expect(notices.some((line) => line.startsWith('embedded PostgreSQL exited'))).toBe(true);
    expect(notices.some((line) => line.startsWith('embedded PostgreSQL is back'))).toBe(true);
  });

  it('a postmaster.pid naming a live process that is not this folder’s postgres is stale: that process lives', async () => {
    await stack.stop();
    const bystander: ChildProcess = spawn('sleep', ['120'], { stdio: 'ignore' });
    try {
      await writeFile(
        path.join(dir, 'pgdata', 'postmaster.pid'),
        `${bystander.pid}\n${path.join(dir, 'pgdata')}\n`,
      );
      stack = await startLocalStack(options());
      expect(isAlive(bystander.pid!)).toBe(true);
      const [row] = await stack.sql<{ one: number }[]>`select 1 as one`;
      expect(row?.one).toBe(1);
    } finally {
      bystander.kill('SIGKILL');
    }
  });

  it('a postmaster orphaned by a killed stack is stopped, and the dead stack’s lock is taken over', async () => {
    await stack.stop();
    const pgPort = freePort();
    // What a SIGKILLed stack leaves behind, made by a child process that takes the folder's lock and starts its
    // Postgres the way a stack does, then dies: the postmaster outlives it, the lock file stays. (Only these two
    // parts: the emulator and the consumer containers a whole stack would start play no part here.)
    const source = (file: string) =>
      JSON.stringify(fileURLToPath(new URL(`../src/${file}`, import.meta.url)));
    const script = `
      const { acquireStateLock } = await import(${source('state-lock.ts')});
      const { startLocalPostgres } = await import(${source('postgres.ts')});
      acquireStateLock(${JSON.stringify(dir)});
      const postgres = await startLocalPostgres({ dataDir: ${JSON.stringify(path.join(dir, 'pgdata'))},
        port: ${pgPort}, fast: true });
      process.send({ postmaster: postgres.pid() });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let childErrors = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      childErrors += chunk.toString();
    });
    const orphan = await new Promise<number>((resolve, reject) => {
      child.once('message', (message) => resolve((message as { postmaster: number }).postmaster));
      child.once('exit', (code) => reject(new Error(`the child exited early (${code}): ${childErrors}`)));
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(isAlive(orphan)).toBe(true);
    const lockHolder = async () =>
      (JSON.parse(await readFile(path.join(dir, 'payhooks.lock'), 'utf8')) as { pid: number }).pid;
    expect(await lockHolder()).toBe(child.pid);

    stack = await startLocalStack({ ...options(), pgPort });
    expect(isAlive(orphan)).toBe(false);
    expect(await lockHolder()).toBe(process.pid);
    const [row] = await stack.sql<{ one: number }[]>`select 1 as one`;
    expect(row?.one).toBe(1);
  });
});

describe('queued and dead-lettered messages survive a stop and a start', () => {
  it('every callback answered 2xx reaches the ledger after the restart; the DLQ keeps its message', async () => {
    const db = await createTestDatabase();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-queues-'));
    const stopped: LocalStack[] = [];
    try {
      const base: LocalStackOptions = {
        stateDir: dir,
        port: 0,
        databaseUrl: db.url,
        stripeWebhookSecrets: [secret],
        maxReceiveCount: 1000,
        notice: () => {},
      };
      // Consumers that cannot reach their database: every accepted event stays in the queue.
      const first = await startLocalStack({
        ...base,
        consumerTimeoutSeconds: 5,
        env: { DATABASE_URL: 'postgres://nobody:none@127.0.0.1:9/none' },
      });
      stopped.push(first);
      const { scenario, deliveries } = plan(22, 15);
      const results = await sendDeliveries(first.gatewayUrl, deliveries, 4);
      expect(results.filter((r) => r.status < 200 || r.status > 299)).toEqual([]);
      await first.queues.client.send(
        new SendMessageCommand({ QueueUrl: first.queues.dlqUrl, MessageBody: 'dead-lettered poison' }),
      );
      await first.stop();

      const second = await startLocalStack(base);
      stopped.push(second);
      await second.drain();
      expect((await checkStripeLedger(second.sql, scenario, results)).problems).toEqual([]);
      const { Messages = [] } = await second.queues.client.send(
        new ReceiveMessageCommand({ QueueUrl: second.queues.dlqUrl, MaxNumberOfMessages: 10 }),
      );
      expect(Messages.map((m) => m.Body)).toEqual(['dead-lettered poison']);
    } finally {
      for (const stack of stopped) await stack.stop();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
