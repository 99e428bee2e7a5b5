// Alerts: the SNS topic every alarm and the reconciliation jobs publish to. Subscribe on-call addresses to it
// (docs/deploy.md); it exists before the functions so they can be given its ARN.
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { StackContext } from 'sst/constructs';
import { waive } from './nag.ts';

export function Alerts({ stack }: StackContext) {
  const topic = new sns.Topic(stack, 'AlertTopic', {
    displayName: `payhooks ${stack.stage} alerts`,
    enforceSSL: true,
  });
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarms',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: {
        ArnLike: {
          'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
        },
      },
    }),
  );
  waive(topic, [
    {
      id: 'PCI.DSS.321-SNSEncryptedKMS',
      reason:
        'Alarm state changes only (no card data, no secrets). CloudWatch alarms cannot publish to a topic under ' +
        'the AWS-managed SNS key; TLS-only publishing is enforced (enforceSSL).',
    },
  ]);
  stack.addOutputs({ AlertTopicArn: topic.topicArn });
  return { topic };
}
