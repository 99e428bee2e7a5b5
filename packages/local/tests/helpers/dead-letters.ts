// What a test's poison messages left in the local stack's DLQ. The fault tests run with a 1 s visibility timeout so a
// poison message reaches the DLQ quickly; on a loaded machine a good message's batch can then outlive the timeout on
// every allowed receive, and the redrive policy moves that copy too although its event was applied. Under at-least-once
// delivery such copies are legitimate, so the poison ids are asserted exactly and every other dead letter must be an
// event the ledger holds.
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { expect } from 'vitest';
import type { LocalStack } from '../../src/stack.ts';

/** The event id of every message in the DLQ, one entry per message (received, kept invisible for 60 s). */
export async function deadLetterEventIds(stack: LocalStack): Promise<string[]> {
  const seen = new Map<string, string>();
  for (;;) {
    const { Messages = [] } = await stack.queues.client.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.queues.dlqUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
      }),
    );
    const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (fresh.length === 0) return [...seen.values()];
    for (const m of fresh) seen.set(m.MessageId!, (JSON.parse(m.Body!) as { eventId: string }).eventId);
  }
}

/** Each poison id is in the DLQ exactly once; any other dead letter is a copy of an event already in the inbox. */
export async function expectDeadLetters(stack: LocalStack, poisonIds: readonly string[]): Promise<void> {
  const depth = await stack.queues.depth(stack.queues.dlqUrl);
  const ids = await deadLetterEventIds(stack);
  expect(ids).toHaveLength(depth);
  const poison = new Set(poisonIds);
  expect(ids.filter((id) => poison.has(id)).sort()).toEqual([...poisonIds].sort());
  const copies = [...new Set(ids.filter((id) => !poison.has(id)))];
  const applied =
    copies.length === 0
      ? []
      : await stack.sql<{ event_id: string }[]>`
          select event_id from inbox_events where event_id in ${stack.sql(copies)}`;
  expect(
    applied.map((row) => row.event_id).sort(),
    'dead letters that are not poison must be applied',
  ).toEqual(copies.sort());
}
