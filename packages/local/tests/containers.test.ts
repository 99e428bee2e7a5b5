// The consumer container pool (one child process per Lambda container): an error thrown inside a container
// crosses the process boundary with its name, message and stable code.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PayhooksError } from '@payhooks/core/errors';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContainerPool, startContainerPool } from '../src/containers.ts';
import { ContainerInvocationError } from '../src/errors.ts';
import { sqsBatch } from './helpers/wechatpay.ts';

let db: TestDatabase;
let dir: string;
let pool: ContainerPool;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-containers-'));
  pool = startContainerPool({
    env: { ...process.env, DATABASE_URL: db.url, DB_MAX_CONNECTIONS: '1' },
    size: 1,
    timeoutMs: 30_000,
    metrics: new MemoryMetrics(),
    logFile: path.join(dir, 'consumer.log'),
    logLevel: 'error',
  });
  await pool.ready();
});
afterAll(async () => {
  await pool?.stop();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('consumer container errors', () => {
  it('a batch where every record fails rejects with the handler’s error, its code kept across the IPC', async () => {
    const invocation = pool.invoke(sqsBatch(['not json']));
    await expect(invocation).rejects.toBeInstanceOf(ContainerInvocationError);
    await expect(invocation).rejects.toBeInstanceOf(PayhooksError);
    await expect(invocation).rejects.toMatchObject({
      name: 'BatchFailedError',
      code: 'CONSUMER_BATCH_FAILED',
      message: 'All records failed processing (1)',
    });
  });
});
