// Provider secrets. Stripe's are SST Config.Secret (SSM SecureString, set with `npx sst secrets set`): no
// CloudFormation resource holds a value; functions get a placeholder env var and read the value at cold start.
// WeChat Pay merchants are split by need (docs/decisions.md "Merchant secrets by need"): one SecureString per
// merchant and purpose under /payhooks/<stage>/wechatpay/<verify|decrypt|sign>/<id>, set with
// `payhooks secrets set-wechatpay-merchant`, each function's role scoped to the purpose paths it needs.
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Stack } from 'sst/constructs';
import { Config, type Function as SstFunction, type StackContext } from 'sst/constructs';
import { resourceMatching, waive } from './nag.ts';

export function Secrets({ stack }: StackContext) {
  return {
    /** Comma-separated Stripe endpoint signing secrets (`whsec_…`); all are accepted during a rotation. */
    STRIPE_WEBHOOK_SECRETS: new Config.Secret(stack, 'STRIPE_WEBHOOK_SECRETS'),
    /** Stripe restricted API key for reports and backfill. */
    STRIPE_API_KEY: new Config.Secret(stack, 'STRIPE_API_KEY'),
  };
}

/** verify: public keys and ids (webhook) · decrypt: APIv3 keys (consumer) · sign: merchant private keys. */
export type WechatpayPurpose = 'verify' | 'decrypt' | 'sign';

export function wechatpayParametersPath(stage: string): string {
  return `/payhooks/${stage}/wechatpay`;
}

/**
 * Tells fn where the merchant parameters are (WECHATPAY_PARAMETERS) and lets it read exactly the given
 * purposes. GetParametersByPath is authorised on the path itself; the `/*` resource covers the parameters.
 * The SecureStrings use the AWS managed key aws/ssm, whose key policy already lets account principals
 * decrypt through SSM, so no kms statement is needed.
 */
export function grantWechatpayMerchants(
  stack: Stack,
  fn: SstFunction,
  purposes: readonly WechatpayPurpose[],
): void {
  const root = wechatpayParametersPath(stack.stage);
  fn.addEnvironment('WECHATPAY_PARAMETERS', root);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['ssm:GetParametersByPath'],
      resources: purposes.flatMap((purpose) => [
        stack.formatArn({
          service: 'ssm',
          resource: 'parameter',
          resourceName: `${root.slice(1)}/${purpose}`,
        }),
        stack.formatArn({
          service: 'ssm',
          resource: 'parameter',
          resourceName: `${root.slice(1)}/${purpose}/*`,
        }),
      ]),
    }),
  );
  waive(fn, [
    {
      id: 'AwsSolutions-IAM5',
      reason:
        'One parameter per merchant under each purpose path: the function reads every merchant of its own ' +
        'purposes (the set grows without a redeploy) and no other path.',
      appliesTo: [
        resourceMatching(
          'arn:.*:ssm:.*:parameter\\/payhooks\\/[^\\/]+\\/wechatpay\\/(verify|decrypt|sign)\\/\\*',
        ),
      ],
    },
  ]);
}
