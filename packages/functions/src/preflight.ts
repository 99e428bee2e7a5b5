// Lambda: the deploy-time stage guard. The Preflight stack's SST Script invokes it on every deploy, before the
// Database stack (and everything after it) is created or updated: it reads every bound secret and every WeChat Pay
// merchant part of the stage and checks them against the declared mode with core's rule. A refusal throws, the
// Script fails, and CloudFormation rolls the deploy back before any stateful resource or function changes.

import { createLogger } from '@payhooks/core/logger';
import type { Logger, Metrics } from '@payhooks/core/ports';
import { StageRefusedError } from '@payhooks/core/stage-guard';
import { metricsFor } from './adapters/metrics.ts';
import { merchantsFromEnv } from './wiring/merchants.ts';
import { reportRefusal, STAGE_SECRETS, stageFindingsFromEnv, takesWechatpay } from './wiring/stage-guard.ts';

export async function runPreflight(
  env: Readonly<Record<string, string | undefined>>,
  deps: { logger?: Logger; metrics?: Metrics } = {},
): Promise<{
  stage: string;
  mode: string;
  checked: string[];
}> {
  // A Stripe-only stage (stacks/stages.ts `providers`) has no merchant parts: nothing of WeChat Pay to check.
  const wechatpay = takesWechatpay(env);
  const findings = await stageFindingsFromEnv(env, {
    service: 'preflight',
    secrets: STAGE_SECRETS,
    ...(wechatpay ? { merchants: () => merchantsFromEnv(env) } : {}),
  });
  if (findings.length > 0) {
    reportRefusal(
      findings,
      'preflight',
      deps.logger ?? createLogger({ name: 'preflight' }),
      deps.metrics ?? metricsFor('preflight', env),
    );
    throw new StageRefusedError(findings);
  }
  return {
    stage: env.PAYHOOKS_STAGE ?? '',
    mode: env.PAYHOOKS_STAGE_MODE ?? '',
    checked: [...STAGE_SECRETS, ...(wechatpay ? ['WECHATPAY_MERCHANTS (verify, decrypt, sign)'] : [])],
  };
}

export const handler = async () => runPreflight(process.env);
