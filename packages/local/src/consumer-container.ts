// One Lambda "container" of the consumer in a process of its own: the shipped handler (createConsumerHandler)
// with one database connection, invoked over IPC by the container pool (containers.ts) one batch at a time.
// Each answer carries the metric counts of its invocation, so the parent's MemoryMetrics adds up as before; logs
// are appended to the state folder's log file. It exits when its parent goes away.
import { PayhooksError } from '@payhooks/core/errors';
import { createLogger } from '@payhooks/core/logger';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { createConsumerHandler } from '@payhooks/functions/consumer';
import { sqlFromEnv } from '@payhooks/functions/wiring/db';
import pino from 'pino';
import { exitWithParent } from './child-process.ts';
import type { ContainerReply, ContainerRequest } from './containers.ts';
import { claimStoreFromLocalEnv } from './folder-store.ts';

const env = process.env;
const logFile = env.PAYHOOKS_LOG_FILE;
const logger = createLogger({
  name: 'payhooks-local',
  level: env.PAYHOOKS_LOG_LEVEL ?? 'info',
  destination: pino.destination(logFile ? { dest: logFile, sync: true, append: true } : { sync: true }),
});
const sql = sqlFromEnv(env, 'payhooks-consumer');
const metrics = new MemoryMetrics();
const handler = createConsumerHandler(env, { sql, metrics, logger, claims: claimStoreFromLocalEnv(env) });
exitWithParent(() => sql.end({ timeout: 1 }));

// A container whose stack stopped while it was still loading has no channel left to answer on: exitWithParent
// ends it, and a send then would only crash it with ERR_IPC_CHANNEL_CLOSED on the way out.
const reply = (message: ContainerReply) => {
  if (process.connected) process.send!(message);
};
const takeCounts = (): [string, number][] => {
  const counts = [...metrics.counts];
  metrics.counts.clear();
  return counts;
};

process.on('message', async (message: ContainerRequest) => {
  if (message.type !== 'invoke') return;
  try {
    const response = await handler(message.event);
    reply({ type: 'result', id: message.id, ok: true, response, counts: takeCounts() });
  } catch (error) {
    const { name, message: text } =
      error instanceof Error ? error : { name: 'Error', message: String(error) };
    // The code crosses the process boundary too, so the parent's rebuilt error keeps it (ContainerInvocationError).
    const code = error instanceof PayhooksError ? { code: error.code } : {};
    reply({
      type: 'result',
      id: message.id,
      ok: false,
      error: { name, message: text, ...code },
      counts: takeCounts(),
    });
  }
});
reply({ type: 'ready' });
