// Stripe over Amazon EventBridge, per stage (stacks/stages.ts `stripeEventBridge`): the partner event bus that
// receives the source Stripe created in this account → one rule → the same ingest queue as the webhooks. The
// queue policy lets only that rule send (events.amazonaws.com with aws:SourceArn = the rule); events the rule
// cannot deliver go to the DLQ, where the CLI's replay handles them like any other message. No function and no
// secret is on this path: the consumer turns the EventBridge event into an envelope (adapters/eventbridge.ts).
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Stack } from 'sst/constructs';
import { STRIPE_PARTNER_SOURCE_PREFIX } from './stages.ts';

export interface StripeEventBridge {
  readonly bus: events.EventBus;
  readonly rule: events.Rule;
}

export function stripeOverEventBridge(
  stack: Stack,
  eventSourceName: string,
  queue: sqs.IQueue,
  deadLetterQueue: sqs.IQueue,
): StripeEventBridge {
  // A partner event bus must carry the partner event source's name; CloudFormation associates the two.
  const bus = new events.EventBus(stack, 'StripePartnerBus', { eventSourceName });
  const rule = new events.Rule(stack, 'StripeEventsToQueue', {
    description: 'Stripe events from the partner event source to the ingest queue',
    eventBus: bus,
    eventPattern: { source: events.Match.prefix(`${STRIPE_PARTNER_SOURCE_PREFIX}/`) },
  });
  rule.addTarget(new targets.SqsQueue(queue, { deadLetterQueue }));
  return { bus, rule };
}
