// Samples the local queues' depth into queue_depth_samples (migration 0017-consoleops) for the operations
// console's "queue depth over the last hours" chart: one GetQueueAttributes per queue every interval, samples
// older than two days deleted as it goes. A failed sample (Postgres restarting) is skipped, never fatal.
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Sql } from '@payhooks/core/ledger';
import type { Logger } from '@payhooks/core/ports';

export const QUEUE_SAMPLE_RETENTION_HOURS = 48;

async function depthOf(sqs: SQSClient, url: string) {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    in_flight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/** Takes one sample of both queues now. */
export async function sampleQueueDepth(
  sql: Sql,
  queues: { client: SQSClient; queueUrl: string; dlqUrl: string },
  at = new Date(),
): Promise<void> {
  const [main, dlq] = await Promise.all([
    depthOf(queues.client, queues.queueUrl),
    depthOf(queues.client, queues.dlqUrl),
  ]);
  await sql`
    insert into queue_depth_samples ${sql([
      { queue: 'main', sampled_at: at, ...main },
      { queue: 'dlq', sampled_at: at, ...dlq },
    ])} on conflict do nothing`;
  await sql`
    delete from queue_depth_samples
    where sampled_at < ${new Date(at.getTime() - QUEUE_SAMPLE_RETENTION_HOURS * 3_600_000)}`;
}

/** Samples at once and then every `intervalMs` until stopped. */
export function startQueueDepthSampler(options: {
  sql: Sql;
  queues: { client: SQSClient; queueUrl: string; dlqUrl: string };
  intervalMs: number;
  logger: Logger;
}): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = sampleQueueDepth(options.sql, options.queues).catch((error: unknown) =>
      options.logger.warn('queue depth sample skipped', { error: String(error) }),
    );
  };
  tick();
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
