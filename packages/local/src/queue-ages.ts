// The console's QueueAges port on the local SQS service: the age of each queue's oldest message, which a stage's
// console reads from CloudWatch (ApproximateAgeOfOldestMessage, functions' adapters/cloudwatch-ops.ts) and the
// local service answers itself (queue-service/http.ts). Only payhooks' own service has it, not the emulator.
import type { OldestMessageAge, QueueAges } from '@payhooks/console/api';
import { OLDEST_MESSAGE_AGES_PATH } from './queue-service/http.ts';

const nameOf = (queueUrl: string) => queueUrl.split('/').filter(Boolean).at(-1) ?? '';

export function localQueueAges(queues: { endpoint: string; queueUrl: string; dlqUrl: string }): QueueAges {
  return {
    async oldestMessageAge() {
      const response = await fetch(`${queues.endpoint}${OLDEST_MESSAGE_AGES_PATH}`);
      if (!response.ok) throw new Error(`the local SQS answered ${response.status} for its queue ages`);
      const ages = (await response.json()) as { at: string; queues: Record<string, number | null> };
      const age = (url: string): OldestMessageAge | null => {
        const seconds = ages.queues[nameOf(url)];
        return typeof seconds === 'number' ? { seconds, at: ages.at } : null;
      };
      return { main: age(queues.queueUrl), dlq: age(queues.dlqUrl) };
    },
  };
}
