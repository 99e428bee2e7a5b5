// Provider secrets as SST Config.Secret (SSM SecureString, set with `npx sst secrets set`). No CloudFormation
// resource holds a value: functions get a placeholder env var and read the value from SSM at cold start.
import { Config, type StackContext } from 'sst/constructs';

export function Secrets({ stack }: StackContext) {
  return {
    /** Comma-separated Stripe endpoint signing secrets (`whsec_…`); all are accepted during a rotation. */
    STRIPE_WEBHOOK_SECRETS: new Config.Secret(stack, 'STRIPE_WEBHOOK_SECRETS'),
    /** Stripe restricted API key for reports and backfill. */
    STRIPE_API_KEY: new Config.Secret(stack, 'STRIPE_API_KEY'),
    /** WeChat Pay merchant configuration JSON (APIv3 keys, merchant private keys, platform public keys). */
    WECHATPAY_MERCHANTS: new Config.Secret(stack, 'WECHATPAY_MERCHANTS'),
  };
}
