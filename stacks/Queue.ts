// Queue: the durable hand-off between the ingress functions and the consumer. Standard queue with SSE, a DLQ
// after `maxReceiveCount` receives, and a consumer event source whose maximum concurrency is the bound on the
// consumer's database connections (DB_MAX_CONNECTIONS=1 per container).
import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { dependsOn, type StackContext, use } from 'sst/constructs';
import { claimCheckBucket, grantClaimCheckConsume } from './claim-check.ts';
import { Database } from './Database.ts';
import { payhooksFunction } from './functions.ts';
import { Migrations } from './Migrations.ts';
import { Network } from './Network.ts';
import { grantWechatpayMerchants } from './Secrets.ts';
import { stageSettings } from './stage.ts';
import { stripeOverEventBridge } from './stripe-eventbridge.ts';

/**
 * AWS: "set the source queue's visibility timeout to at least six times the timeout that you configure on your
 * function, plus the value of MaximumBatchingWindowInSeconds" — room for Lambda to retry a throttled batch
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export function visibilityTimeoutSeconds(consumer: {
  timeoutSeconds: number;
  batchWindowSeconds: number;
}): number {
  return consumer.timeoutSeconds * VISIBILITY_TIMEOUT_FACTOR + consumer.batchWindowSeconds;
}

/**
 * SQS accepts messages up to 1 MiB since August 2025 (SendMessage MessageBody "maximum size is 1 MiB or
 * 1,048,576 bytes"); the Lambda SQS event source carries them since January 2026. New queues still default to
 * 256 KiB, so it is set explicitly (both queues: a redriven message must fit the DLQ too).
 */
export const MAX_MESSAGE_SIZE_BYTES = 1_048_576;

export function Queue({ stack, app }: StackContext) {
  const settings = stageSettings(app.stage);
  const { vpc, functionSubnets, functionsSecurityGroup } = use(Network);
  const { connect } = use(Database);
  // Deploy order: the consumer's new code runs only after the schema it expects exists.
  dependsOn(Migrations);

  const deadLetterQueue = new sqs.Queue(stack, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
  });
  const queue = new sqs.Queue(stack, 'EventQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(settings.queue.retentionDays),
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(settings.consumer)),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: settings.queue.maxReceiveCount },
  });

  const consumer = payhooksFunction(stack, 'Consumer', {
    entry: 'consumer',
    description: 'Applies queued provider events to the ledger (inbox + projections)',
    timeoutSeconds: settings.consumer.timeoutSeconds,
    memorySize: 512,
    vpc,
    vpcSubnets: functionSubnets,
    securityGroups: [functionsSecurityGroup],
    // Connect endpoints also deliver test-mode events: a stage declared live books live mode, others test mode.
    environment: { STRIPE_LIVEMODE: settings.live ? 'true' : 'false' },
  });
  connect(consumer, 'app');
  if (settings.wechatpay) grantWechatpayMerchants(stack, consumer, ['decrypt']);
  // Bodies too large for one message (claim check): the producers put, the consumer gets and removes.
  const claimChecks = claimCheckBucket(stack, settings);
  grantClaimCheckConsume(claimChecks, consumer);
  consumer.addEventSource(
    new SqsEventSource(queue, {
      batchSize: settings.consumer.batchSize,
      maxBatchingWindow: Duration.seconds(settings.consumer.batchWindowSeconds),
      reportBatchItemFailures: true,
      maxConcurrency: settings.consumer.maxConcurrency,
    }),
  );

  // Opt-in per stage (stacks/stages.ts): Stripe's partner event source onto the same queue.
  const eventSourceName = settings.declaration.stripeEventBridge?.eventSourceName;
  const stripeEvents = eventSourceName
    ? stripeOverEventBridge(stack, eventSourceName, queue, deadLetterQueue)
    : undefined;

  stack.addOutputs({ QueueUrl: queue.queueUrl, DeadLetterQueueUrl: deadLetterQueue.queueUrl });
  return { queue, deadLetterQueue, consumer, stripeEvents, claimChecks };
}
