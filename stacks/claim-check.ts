// The claim-check bucket (docs/decisions.md "Claim check"): a verified body whose envelope exceeds one queue
// message is stored here under `claim-check/<provider>/<sha256>` and the queue carries the reference. Private,
// SSE, TLS only; objects expire once no message can still refer to them (the main queue's retention plus the
// DLQ's), so nothing has to delete them and a redelivered message still finds its body. Each webhook may only
// put under its own provider's prefix, the consumer may only get: no one lists or deletes.
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
        'Private, IAM-only bucket of transient copies (put by the webhooks, got by the consumer, expired by ' +
        'lifecycle); the inbox row keeps the evidence. CloudTrail S3 data events are the access trail if needed.',
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

/** The webhook of `provider` may write objects under its own prefix only. */
export function grantClaimCheckPut(
  bucket: s3.Bucket,
  fn: SstFunction,
  provider: 'stripe' | 'wechatpay',
): void {
  fn.addEnvironment('CLAIM_CHECK_BUCKET', bucket.bucketName);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects(`${CLAIM_CHECK_PREFIX}${provider}/*`)],
    }),
  );
  waiveClaimCheckPrefix(fn);
}

/** The consumer may read claim-checked bodies, nothing else of the bucket. */
export function grantClaimCheckGet(bucket: s3.Bucket, fn: SstFunction): void {
  fn.addEnvironment('CLAIM_CHECK_BUCKET', bucket.bucketName);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [bucket.arnForObjects(`${CLAIM_CHECK_PREFIX}*`)],
    }),
  );
  waiveClaimCheckPrefix(fn);
}

function waiveClaimCheckPrefix(fn: SstFunction): void {
  waive(fn, [
    {
      id: 'AwsSolutions-IAM5',
      reason:
        'Claim-check objects are keyed by the body SHA-256, unknown in advance: the grant is the prefix, one ' +
        'action, no list or delete.',
      appliesTo: [
        {
          regex:
            '/^Resource::<ClaimCheckBucket[0-9A-F]+\\.Arn>\\/claim-check\\/((stripe|wechatpay)\\/)?\\*$/g',
        },
      ],
    },
  ]);
}
