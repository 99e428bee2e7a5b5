// Operations: the one function the operator CLI invokes (`payhooks --stage NAME …`, lambda:InvokeFunction with the
// operator's IAM credentials) for work that needs the database or the providers — failure reasons, recon runs,
// backfills, doctor. It runs in the VPC with the app database role like the recon jobs and the sweep, so no
// database password or provider key ever reaches a laptop. Queue and bucket operations the CLI does itself.
import * as iam from 'aws-cdk-lib/aws-iam';
import { type StackContext, use } from 'sst/constructs';
import { grantClaimCheckPut } from './claim-check.ts';
import { Database } from './Database.ts';
import { payhooksFunction } from './functions.ts';
import { Network } from './Network.ts';
import { resourceMatching, waive } from './nag.ts';
import { Queue } from './Queue.ts';
import { REPORT_PREFIX, Reconciliation } from './Reconciliation.ts';
import { grantWechatpayMerchants, Secrets } from './Secrets.ts';
import { stageSettings } from './stage.ts';

/** At most this many operations at once: each holds one database connection. */
export const OPERATIONS_CONCURRENCY = 2;

export function Operations({ stack, app }: StackContext) {
  const { vpc, functionSubnets, functionsSecurityGroup } = use(Network);
  const { connect } = use(Database);
  const { queue, claimChecks } = use(Queue);
  const { bucket } = use(Reconciliation);
  const secrets = use(Secrets);

  const operations = payhooksFunction(stack, 'Operations', {
    entry: 'operations',
    description: 'Operator CLI operations: failure reasons, recon runs, backfills, doctor (IAM invoke only)',
    // A reconciliation run may take as long as the nightly job's.
    timeoutSeconds: 900,
    memorySize: 1024,
    reservedConcurrentExecutions: OPERATIONS_CONCURRENCY,
    vpc,
    vpcSubnets: functionSubnets,
    securityGroups: [functionsSecurityGroup],
    environment: { REPORTS_BUCKET: bucket.bucketName, QUEUE_URL: queue.queueUrl },
  });
  connect(operations, 'app');
  if (stageSettings(app.stage).wechatpay) {
    grantWechatpayMerchants(stack, operations, ['verify', 'decrypt', 'sign']);
  } else {
    // doctor then reports WeChat Pay as not taken instead of failing on absent merchant parameters.
    operations.addEnvironment('PAYHOOKS_PROVIDERS', 'stripe');
  }
  operations.bind([secrets.STRIPE_API_KEY]);
  const prefixes = Object.values(REPORT_PREFIX);
  operations.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
    }),
  );
  operations.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } },
    }),
  );
  operations.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
  );
  // Backfills queue events of any size: put under the prefixes of the providers the stage takes.
  grantClaimCheckPut(
    claimChecks,
    operations,
    stageSettings(app.stage).wechatpay ? ['stripe', 'wechatpay'] : 'stripe',
  );
  waive(operations, [
    {
      id: 'AwsSolutions-IAM5',
      reason:
        'A recon run reads and writes report objects under the provider prefixes, as the nightly jobs do.',
      appliesTo: prefixes.map((prefix) =>
        resourceMatching(`<ReportsBucket[0-9A-F]+\\.Arn>\\/${prefix.replace(/[/]/g, '\\/')}\\*`),
      ),
    },
  ]);

  stack.addOutputs({
    OperationsFunctionName: operations.functionName,
    OperationsFunctionArn: operations.functionArn,
  });
  return { operations };
}
