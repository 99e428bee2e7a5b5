// Reconciliation: the private reports bucket, one nightly job per provider on a UTC cron, and the WeChat Pay
// sweep that queries orders left pending too long. Jobs are idempotent per (provider, business date), so the
// extra attempts in each schedule are no-ops once a run has succeeded. Hours: docs/decisions.md.
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { type Function as SstFunction, type StackContext, use } from 'sst/constructs';
import { Alerts } from './Alerts.ts';
import { CERTIFICATE_SCHEDULE, certificateRefresher } from './Certificates.ts';
import { CONSISTENCY_SCHEDULE, consistencySamplers } from './Consistency.ts';
import { grantClaimCheckPut } from './claim-check.ts';
import { Database } from './Database.ts';
import { payhooksFunction } from './functions.ts';
import { Network } from './Network.ts';
import { resourceMatching, waive } from './nag.ts';
import { Queue } from './Queue.ts';
import { RAW_PAYLOAD_PURGE_SCHEDULE, rawPayloadPurger } from './Retention.ts';
import { grantWechatpayMerchants, Secrets } from './Secrets.ts';
import { stageSettings } from './stage.ts';

/** EventBridge cron, UTC. WeChat bills for day D (Asia/Shanghai) are ready after 10:00 Shanghai = 02:00 UTC. */
export const SCHEDULES = {
  // 10:30, 11:00, 11:30, 12:00 Asia/Shanghai: first try with margin after 10:00, retries until noon.
  wechatpay: ['cron(30 2,3 * * ? *)', 'cron(0 3,4 * * ? *)'],
  // Stripe's reporting data for a UTC day is normally available by mid-morning UTC; retries until 16:00 UTC.
  stripe: ['cron(0 12,14,16 * * ? *)'],
  sweep: ['rate(15 minutes)'],
  // Objects whose events tied (object_revalidations): asked of Stripe within minutes, at most 100 per run.
  revalidate: ['rate(5 minutes)'],
  certificates: [CERTIFICATE_SCHEDULE],
  rawPayloadPurge: [RAW_PAYLOAD_PURGE_SCHEDULE],
  // Consistency sampling per provider (stacks/Consistency.ts).
  consistency: CONSISTENCY_SCHEDULE,
} as const;

/**
 * Size of each nightly reconciliation job, from the 10,000,000-row WeChat Pay trade bill measured in case 5
 * (docs/benchmarks.md, "Case 5 after session 7"; docs/decisions.md): 384 s on 2 shared vCPUs, of which ≈ 137 s the
 * worker's own CPU and the rest waiting on PostgreSQL; peak RSS 272 MiB; up to 2.0 GB of /tmp (the 0.44 GB gzip
 * copy plus a spooled file) and a 1.36 GB matched.csv written there before its upload. 1,769 MB buys one full vCPU
 * (1,024 MB ≈ 0.58 vCPU: ≈ 480 s estimated, over half the 900 s limit); 4 GB of ephemeral storage instead of the
 * default 512 MB, which a 10 M-row matched.csv alone exceeds.
 */
export const RECON_JOB_SIZE = { memorySize: 1769, diskSizeMb: 4096, timeoutSeconds: 900 } as const;

/** Report keys: `<provider>/<business date YYYY-MM-DD>/{summary.json,breaks.csv,matched.csv}`. */
export const REPORT_PREFIX = { wechatpay: 'wechatpay/', stripe: 'stripe/' } as const;

export function Reconciliation({ stack, app }: StackContext) {
  const settings = stageSettings(app.stage);
  const { vpc, functionSubnets, functionsSecurityGroup } = use(Network);
  const { connect } = use(Database);
  const { topic } = use(Alerts);
  const { queue, claimChecks } = use(Queue);
  const secrets = use(Secrets);

  const bucket = new s3.Bucket(stack, 'ReportsBucket', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: settings.retained,
    removalPolicy: settings.removal,
    autoDeleteObjects: !settings.retained,
    lifecycleRules: [
      {
        id: 'reports-retention',
        abortIncompleteMultipartUploadAfter: Duration.days(7),
        expiration: Duration.days(settings.reports.expireAfterDays),
        ...(settings.reports.infrequentAccessAfterDays === undefined
          ? {}
          : {
              transitions: [
                {
                  storageClass: s3.StorageClass.INFREQUENT_ACCESS,
                  transitionAfter: Duration.days(settings.reports.infrequentAccessAfterDays),
                },
              ],
            }),
        ...(settings.retained ? { noncurrentVersionExpiration: Duration.days(90) } : {}),
      },
    ],
  });

  waive(bucket, [
    {
      id: 'AwsSolutions-S1',
      reason:
        'Private bucket (public access blocked, TLS only, owner-enforced), reachable only through the recon roles ' +
        'and the IAM-authorised reports route; a second log bucket would itself need logs. CloudTrail S3 data ' +
        'events are the access trail when an audit asks for one.',
    },
    {
      id: 'PCI.DSS.321-S3BucketLoggingEnabled',
      reason: 'As AwsSolutions-S1: IAM-only access, CloudTrail data events.',
    },
    {
      id: 'PCI.DSS.321-S3BucketReplicationEnabled',
      reason:
        'Reports are derived: the nightly jobs rebuild them from the provider statements and the ledger.',
    },
    {
      id: 'PCI.DSS.321-S3DefaultEncryptionKMS',
      reason:
        'SSE-S3 at rest; reports hold settlement lines (amounts, order ids), no card data and no secrets.',
    },
    ...(settings.retained
      ? []
      : [
          {
            id: 'PCI.DSS.321-S3BucketVersioningEnabled',
            reason:
              'Removable stage: objects are auto-deleted with the stage; retained stages version the bucket.',
          },
        ]),
  ]);

  const inVpc = { vpc, vpcSubnets: functionSubnets, securityGroups: [functionsSecurityGroup] };

  function reconJob(id: string, entry: string, prefix: string): SstFunction {
    const fn = payhooksFunction(stack, id, {
      entry,
      description: `Nightly reconciliation (${entry})`,
      timeoutSeconds: RECON_JOB_SIZE.timeoutSeconds,
      memorySize: RECON_JOB_SIZE.memorySize,
      diskSize: RECON_JOB_SIZE.diskSizeMb,
      ...inVpc,
      environment: { REPORTS_BUCKET: bucket.bucketName, ALERT_TOPIC_ARN: topic.topicArn },
    });
    connect(fn, 'app');
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [bucket.arnForObjects(`${prefix}*`)],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      }),
    );
    topic.grantPublish(fn);
    waive(fn, [
      {
        id: 'AwsSolutions-IAM5',
        reason: "Each job reads and writes report objects under its own provider's prefix only.",
        appliesTo: [resourceMatching(`<ReportsBucket[0-9A-F]+\\.Arn>\\/${prefix.replace(/[/]/g, '\\/')}\\*`)],
      },
    ]);
    return fn;
  }

  // WeChat Pay's jobs exist only on stages that take it (stacks/stages.ts `providers`).
  const wechatpay = settings.wechatpay ? wechatpayJobs() : undefined;
  function wechatpayJobs() {
    const reconWechatpay = reconJob('ReconWechatpay', 'recon-wechatpay', REPORT_PREFIX.wechatpay);
    grantWechatpayMerchants(stack, reconWechatpay, ['verify', 'decrypt', 'sign']);
    const sweepWechatpay = payhooksFunction(stack, 'SweepWechatpay', {
      entry: 'sweep-wechatpay',
      description: 'Queries WeChat Pay for orders pending too long and enqueues what changed',
      timeoutSeconds: 300,
      memorySize: 512,
      ...inVpc,
      environment: { QUEUE_URL: queue.queueUrl },
    });
    connect(sweepWechatpay, 'app');
    grantWechatpayMerchants(stack, sweepWechatpay, ['verify', 'decrypt', 'sign']);
    sweepWechatpay.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
    );
    grantClaimCheckPut(claimChecks, sweepWechatpay, 'wechatpay');
    return { reconWechatpay, sweepWechatpay };
  }
  const reconStripe = reconJob('ReconStripe', 'recon-stripe', REPORT_PREFIX.stripe);
  reconStripe.bind([secrets.STRIPE_API_KEY]);

  const revalidateStripe = payhooksFunction(stack, 'RevalidateStripe', {
    entry: 'revalidate-stripe',
    description: 'Sends Stripe objects whose mirror could not order two events, as Stripe holds them',
    timeoutSeconds: 300,
    memorySize: 512,
    ...inVpc,
    environment: { QUEUE_URL: queue.queueUrl },
  });
  connect(revalidateStripe, 'app');
  revalidateStripe.bind([secrets.STRIPE_API_KEY]);
  revalidateStripe.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
  );
  grantClaimCheckPut(claimChecks, revalidateStripe, 'stripe');

  function schedule(id: string, expressions: readonly string[], fn: SstFunction): void {
    expressions.forEach((expression, i) => {
      new events.Rule(stack, `${id}Schedule${i + 1}`, {
        description: `payhooks ${app.stage} ${id} (${expression}, UTC)`,
        schedule: events.Schedule.expression(expression),
        targets: [new targets.LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
      });
    });
  }
  if (wechatpay) schedule('ReconWechatpay', SCHEDULES.wechatpay, wechatpay.reconWechatpay);
  schedule('ReconStripe', SCHEDULES.stripe, reconStripe);
  if (wechatpay) schedule('SweepWechatpay', SCHEDULES.sweep, wechatpay.sweepWechatpay);
  schedule('RevalidateStripe', SCHEDULES.revalidate, revalidateStripe);
  const certificatesWechatpay = wechatpay ? certificateRefresher(stack) : undefined;
  if (certificatesWechatpay) schedule('CertificatesWechatpay', SCHEDULES.certificates, certificatesWechatpay);
  const purgeRawPayloads = rawPayloadPurger(stack, { isProd: settings.isProd, inVpc });
  connect(purgeRawPayloads, 'app');
  schedule('PurgeRawPayloads', SCHEDULES.rawPayloadPurge, purgeRawPayloads);

  const { consistencyStripe, consistencyWechatpay } = consistencySamplers(stack, {
    inVpc,
    connect: (fn, role) => connect(fn, role),
    queue,
    claimChecks,
    stripeApiKey: secrets.STRIPE_API_KEY,
    wechatpay: settings.wechatpay,
  });
  schedule('ConsistencyStripe', SCHEDULES.consistency, consistencyStripe);
  if (consistencyWechatpay) schedule('ConsistencyWechatpay', SCHEDULES.consistency, consistencyWechatpay);

  stack.addOutputs({ ReportsBucket: bucket.bucketName });
  return {
    bucket,
    reconWechatpay: wechatpay?.reconWechatpay,
    reconStripe,
    sweepWechatpay: wechatpay?.sweepWechatpay,
    revalidateStripe,
    certificatesWechatpay,
    purgeRawPayloads,
    consistencyStripe,
    consistencyWechatpay,
  };
}
