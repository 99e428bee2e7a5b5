// Consistency sampling (issue 15): every 6 hours per provider, recently changed ledger objects are asked of the
// provider and compared with ledger and mirror; drifted objects are resynced through the ingest queue. One function
// per provider so each holds only its own provider's secrets (like the reconciliation jobs). Called by
// Reconciliation.ts, which owns the schedules.
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Config, Function as SstFunction, Stack } from 'sst/constructs';
import { grantClaimCheckPut } from './claim-check.ts';
import { type PayhooksFunctionProps, payhooksFunction } from './functions.ts';
import { grantWechatpayMerchants } from './Secrets.ts';

export const CONSISTENCY_SCHEDULE = ['rate(6 hours)'] as const;

export interface ConsistencyInputs {
  inVpc: Pick<PayhooksFunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'>;
  connect: (fn: SstFunction, role: 'app') => void;
  queue: sqs.IQueue;
  /** Resync envelopes too large for one message go by claim check (put only, own provider's prefix). */
  claimChecks: s3.Bucket;
  stripeApiKey: Config.Secret;
  /** False on a Stripe-only stage: no WeChat Pay sampler. */
  wechatpay: boolean;
}

export function consistencySamplers(stack: Stack, inputs: ConsistencyInputs) {
  function sampler(
    id: string,
    entry: string,
    description: string,
    provider: 'stripe' | 'wechatpay',
  ): SstFunction {
    const fn = payhooksFunction(stack, id, {
      entry,
      description,
      timeoutSeconds: 300,
      memorySize: 512,
      ...inputs.inVpc,
      environment: { QUEUE_URL: inputs.queue.queueUrl },
    });
    inputs.connect(fn, 'app');
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [inputs.queue.queueArn] }),
    );
    grantClaimCheckPut(inputs.claimChecks, fn, provider);
    return fn;
  }
  const consistencyStripe = sampler(
    'ConsistencyStripe',
    'consistency-stripe',
    'Samples recently changed Stripe objects against Stripe; resyncs drift through the queue',
    'stripe',
  );
  consistencyStripe.bind([inputs.stripeApiKey]);
  if (!inputs.wechatpay) return { consistencyStripe, consistencyWechatpay: undefined };
  const consistencyWechatpay = sampler(
    'ConsistencyWechatpay',
    'consistency-wechatpay',
    'Samples recently changed WeChat Pay objects against WeChat Pay; resyncs drift through the queue',
    'wechatpay',
  );
  // Queries are signed (sign), answers verified (verify); resync envelopes are re-encrypted with the APIv3 key.
  grantWechatpayMerchants(stack, consistencyWechatpay, ['verify', 'decrypt', 'sign']);
  return { consistencyStripe, consistencyWechatpay };
}
