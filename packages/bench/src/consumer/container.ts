// Case 3's consumer "container" in a process of its own (forked from an esbuild bundle by cases/consumer.ts), as
// Lambda runs each consumer container and the local runtime runs consumer-container.ts: the shipped handler
// (createConsumerHandler) on one one-connection postgres.js client, pino into /dev/null. The workload's queue
// messages are sent once, before anything is timed (Lambda's runtime delivers the event; that is not the
// consumer's CPU), and each invocation names the messages of its batch by index. Between runs the container
// connects to the next fresh database and keeps its warm JIT, as a warm Lambda container would.
import { createSql, type Sql } from '@payhooks/core/ledger';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { createConsumerHandler, type SqsHandler } from '@payhooks/functions/consumer';
import { reasonLogger } from './reason-logger.ts';
import { records } from './records.ts';

export type ContainerRequest =
  | { type: 'load'; bodies: string[] }
  | { type: 'connect'; url: string; merchantsJson: string; tag: string }
  | { type: 'invoke'; id: number; indices: number[] }
  | { type: 'report' }
  | { type: 'close' };

export type ContainerReply =
  | { type: 'loaded' }
  | { type: 'connected'; backendPid: number }
  | { type: 'result'; id: number; failed: number[] }
  | {
      type: 'reported';
      applied: number;
      duplicates: number;
      failureReasons: Record<string, number>;
    }
  | { type: 'closed' };

function serve(): void {
  let bodies: string[] = [];
  let sql: Sql | undefined;
  let handler: SqsHandler | undefined;
  let tag = '';
  let metrics = new MemoryMetrics();
  let reasons = new Map<string, number>();
  const reply = (message: ContainerReply) => process.send!(message);
  // The parent going away (IPC closed) ends the container, whatever the parent died of.
  process.on('disconnect', () => process.exit(0));

  process.on('message', async (message: ContainerRequest) => {
    switch (message.type) {
      case 'load':
        bodies = message.bodies;
        reply({ type: 'loaded' });
        return;
      case 'connect': {
        await sql?.end();
        sql = createSql({ url: message.url, max: 1, applicationName: 'payhooks-consumer' });
        metrics = new MemoryMetrics();
        reasons = new Map();
        tag = message.tag;
        handler = createConsumerHandler(
          { DATABASE_URL: message.url, WECHATPAY_MERCHANTS: message.merchantsJson },
          { sql, metrics, logger: reasonLogger(reasons) },
        );
        const [{ pid }] = (await sql`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
        reply({ type: 'connected', backendPid: pid });
        return;
      }
      case 'invoke': {
        const batch = records(
          message.indices.map((i) => bodies[i]!),
          `${tag}-${message.id}`,
        );
        const failed = new Set<string>();
        try {
          const response = await handler!({ Records: batch });
          for (const f of response.batchItemFailures) failed.add(f.itemIdentifier);
        } catch {
          // A batch where every message failed throws (BatchFailedError): all of them come back.
          for (const r of batch) failed.add(r.messageId);
        }
        reply({
          type: 'result',
          id: message.id,
          failed: message.indices.filter((_, i) => failed.has(batch[i]!.messageId)),
        });
        return;
      }
      case 'report':
        reply({
          type: 'reported',
          applied: metrics.total('EventApplied'),
          duplicates: metrics.total('EventDuplicate'),
          failureReasons: Object.fromEntries(reasons),
        });
        return;
      case 'close':
        await sql?.end();
        reply({ type: 'closed' });
        process.exit(0);
    }
  });
}

// Only as the forked child (the parent sets the role): imported anywhere else, this module does nothing.
if (process.env.PAYHOOKS_BENCH_CHILD === 'consumer-container' && process.send) serve();
