// The console's operations port (OpsQueues) on SQS or the local emulator: the shared dead-letter operations of
// dead-letters.ts (the same ones `payhooks dlq` runs) and GetQueueAttributes on both queues. The stage's console
// wiring and the local runtime build it alike.
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { OpsQueues, QueueDepth } from '@payhooks/console/api';
import { listDeadLetters, replaySelected } from './dead-letters.ts';

async function depthOf(sqs: SQSClient, url: string): Promise<QueueDepth> {
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
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

export function opsQueuesOn(queues: { client: SQSClient; queueUrl: string; dlqUrl: string }): OpsQueues {
  const { client, queueUrl, dlqUrl } = queues;
  return {
    listDeadLetters: (limit) => listDeadLetters(client, dlqUrl, limit),
    replaySelected: (choose) => replaySelected(client, { dlqUrl, queueUrl, choose }),
    depth: async () => {
      const [main, dlq] = await Promise.all([depthOf(client, queueUrl), depthOf(client, dlqUrl)]);
      return { main, dlq };
    },
  };
}
