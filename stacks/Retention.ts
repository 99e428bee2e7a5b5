// raw_payload retention (docs/ledger.md "Raw payload retention"): a daily function that nulls inbox raw payloads
// older than the stage's retention, as the application role through the proxy. Ledger and inbox rows stay.
import type { Function as SstFunction, Stack } from 'sst/constructs';
import { payhooksFunction } from './functions.ts';

/** 19:30 UTC = 03:30 Asia/Shanghai: the quietest hour for both providers' traffic. */
export const RAW_PAYLOAD_PURGE_SCHEDULE = 'cron(30 19 * * ? *)';

/**
 * Days raw bodies are kept: live stages keep them 400 days (a full year of disputes, chargebacks and audits
 * plus margin; Stripe disputes open up to 120 days after a charge), test stages 30.
 */
export function rawPayloadRetentionDays(isProd: boolean): number {
  return isProd ? 400 : 30;
}

export function rawPayloadPurger(
  stack: Stack,
  props: {
    isProd: boolean;
    inVpc: Pick<Parameters<typeof payhooksFunction>[2], 'vpc' | 'vpcSubnets' | 'securityGroups'>;
  },
): SstFunction {
  return payhooksFunction(stack, 'PurgeRawPayloads', {
    entry: 'purge-raw-payloads',
    description: 'Nulls inbox raw payloads past the retention (rows are kept)',
    timeoutSeconds: 300,
    memorySize: 256,
    ...props.inVpc,
    environment: { RAW_PAYLOAD_RETENTION_DAYS: String(rawPayloadRetentionDays(props.isProd)) },
  });
}
