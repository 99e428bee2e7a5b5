// The console's operations port on the local queues: the shared dead-letter operations of functions' SQS adapter
// (the same ones `payhooks dlq` runs) and GetQueueAttributes on the emulator. A stage's wiring builds the same
// port on SQS.
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { listDeadLetters, replaySelected } from '@payhooks/functions/adapters/sqs';

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
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

export function opsQueuesOn(queues: { client: SQSClient; queueUrl: string; dlqUrl: string }) {
  const { client, queueUrl, dlqUrl } = queues;
  return {
    listDeadLetters: (limit: number) => listDeadLetters(client, dlqUrl, limit),
    replaySelected: (choose: Parameters<typeof replaySelected>[1]['choose']) =>
      replaySelected(client, { dlqUrl, queueUrl, choose }),
    depth: async () => {
      const [main, dlq] = await Promise.all([depthOf(client, queueUrl), depthOf(client, dlqUrl)]);
      return { main, dlq };
    },
  };
}
