// A consumer in its own process (poller + consumer handler), so a test can kill it mid-transaction with
// SIGKILL the way Lambda ends a timed-out or crashed invocation. Configured by the same environment variables.

import { sqsClientFromEnv } from '@payhooks/functions/adapters/sqs';
import { createConsumerHandler } from '@payhooks/functions/consumer';
import { sqlFromEnv } from '@payhooks/functions/wiring/db';
import { claimStoreFromLocalEnv } from './folder-store.ts';
import { startPoller } from './poller.ts';

const env = process.env;
const sql = sqlFromEnv(env, 'payhooks-consumer');
const handler = createConsumerHandler(env, { sql, claims: claimStoreFromLocalEnv(env) });
startPoller({
  client: sqsClientFromEnv(env),
  queueUrl: env.QUEUE_URL!,
  handler,
  batchSize: 10,
  concurrency: 1,
});
process.stdout.write('consumer ready\n');
