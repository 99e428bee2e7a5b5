// The claim-check bucket (docs/decisions.md "Claim check"): a verified body whose envelope exceeds one queue
// message is stored here under `claim-check/<provider>/<sha256>` and the queue carries the reference. Private,
// SSE, TLS only. The consumer removes an object once its event is in the inbox; the lifecycle expiry (the main
// queue's retention plus the DLQ's) is the backstop for objects whose removal failed. Every producer — the
// webhooks, sweep, revalidation, consistency samplers, operations (backfill) — may only put, under its own
// providers' prefixes; the consumer may get and delete under claim-check/ and list the bucket (so that a missing
// key reads as 404 NoSuchKey, CLAIM_CHECK_MISSING, not 403); no one else touches it.
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Function as SstFunction, Stack } from 'sst/constructs';
import { waive } from './nag.ts';
import type { StageSettings } from './stage.ts';

/** Keys as core/ingress/claim-check.ts writes them. */
export const CLAIM_CHECK_PREFIX = 'claim-check/';

/** The DLQ keeps a message 14 days (stacks/Queue.ts), the SQS maximum. */
export const DEAD_LETTER_RETENTION_DAYS = 14;

export function claimCheckExpiryDays(settings: StageSettings): number {
  return settings.queue.retentionDays + DEAD_LETTER_RETENTION_DAYS;
}

export function claimCheckBucket(stack: Stack, settings: StageSettings): s3.Bucket {
  const bucket = new s3.Bucket(stack, 'ClaimCheckBucket', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    removalPolicy: settings.removal,
    autoDeleteObjects: !settings.retained,
    lifecycleRules: [
      {
        id: 'claim-check-expiry',
        prefix: CLAIM_CHECK_PREFIX,
        expiration: Duration.days(claimCheckExpiryDays(settings)),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
  });
  waive(bucket, [
    {
      id: 'AwsSolutions-S1',
      reason:
        'Private, IAM-only bucket of transient copies (put by the producers, got and removed by the consumer, ' +
        'expired by lifecycle as a backstop); the inbox row keeps the evidence. CloudTrail S3 data events are the access trail if needed.',
    },
    { id: 'PCI.DSS.321-S3BucketLoggingEnabled', reason: 'As AwsSolutions-S1.' },
    {
      id: 'PCI.DSS.321-S3BucketReplicationEnabled',
      reason:
        'Transient: a lost object fails its message into the DLQ with CLAIM_CHECK_*; the provider retries.',
    },
    {
      id: 'PCI.DSS.321-S3BucketVersioningEnabled',
      reason:
        'Content-addressed keys: a rewrite stores the same bytes (the consumer checks the SHA-256), so versions ' +
        'would only keep copies past their expiry.',
    },
    {
      id: 'PCI.DSS.321-S3DefaultEncryptionKMS',
      reason:
        'SSE-S3 at rest, like the queue (SQS-managed SSE) that carries the same bodies inline; no card data.',
    },
  ]);
  return bucket;
}

/**
 * A producer (webhook, sweep, revalidation, consistency sampler, operations) may write objects under the
 * prefixes of the providers whose events it queues, nothing else: no read, no list, no delete.
 */
export function grantClaimCheckPut(
  bucket: s3.Bucket,
  fn: SstFunction,
  providers: 'stripe' | 'wechatpay' | readonly ('stripe' | 'wechatpay')[],
): void {
  fn.addEnvironment('CLAIM_CHECK_BUCKET', bucket.bucketName);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      resources: (typeof providers === 'string' ? [providers] : providers).map((provider) =>
        bucket.arnForObjects(`${CLAIM_CHECK_PREFIX}${provider}/*`),
      ),
    }),
  );
  waiveClaimCheckPrefix(fn);
}

/**
 * The consumer reads claim-checked bodies and removes them after apply (get and delete under claim-check/), and
 * may list the bucket: S3 answers a missing key with 404 only to a caller allowed s3:ListBucket (403 otherwise),
 * and the consumer must tell a removed object (CLAIM_CHECK_MISSING) from a denied read. The bucket holds nothing
 * but claim-check objects, whose names are hashes.
 */
export function grantClaimCheckConsume(bucket: s3.Bucket, fn: SstFunction): void {
  fn.addEnvironment('CLAIM_CHECK_BUCKET', bucket.bucketName);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:DeleteObject'],
      resources: [bucket.arnForObjects(`${CLAIM_CHECK_PREFIX}*`)],
    }),
  );
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
  waiveClaimCheckPrefix(fn);
}

function waiveClaimCheckPrefix(fn: SstFunction): void {
  waive(fn, [
    {
      id: 'AwsSolutions-IAM5',
      reason:
        'Claim-check objects are keyed by the body SHA-256, unknown in advance: the grant is the prefix; ' +
        'producers only put, the consumer gets and deletes.',
      appliesTo: [
        {
          regex:
            '/^Resource::<ClaimCheckBucket[0-9A-F]+\\.Arn>\\/claim-check\\/((stripe|wechatpay)\\/)?\\*$/g',
        },
      ],
    },
  ]);
}
