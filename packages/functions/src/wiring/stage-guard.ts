// The cold-start stage guard: before a function builds anything, the stage's declared mode (PAYHOOKS_STAGE_MODE,
// set by the stacks from stacks/stages.ts) is checked against the secrets the function is bound to, with core's
// rule (stage-guard.ts). A refusal is one error line per finding, a StageRefused metric (the StageRefused alarm)
// and a thrown StageRefusedError, so the function answers nothing at all rather than run with the wrong keys.
// Without PAYHOOKS_STAGE_MODE (the local runtime, tests) there is no deployed stage to guard.
import { ConfigError } from '@payhooks/core/errors';
import { createLogger } from '@payhooks/core/logger';
import type { Logger, Metrics } from '@payhooks/core/ports';
import {
  checkStage,
  type MerchantsCheck,
  STAGE_MODE_VARIABLE,
  type StageFacts,
  type StageFinding,
  StageRefusedError,
} from '@payhooks/core/stage-guard';
import { metricsFor } from '../adapters/metrics.ts';
import { type Env, once, secret } from '../config.ts';

export const STAGE_REFUSED_METRIC = 'StageRefused';

export interface StageGuardOptions {
  /** The function's name in logs and the metric's service dimension. */
  readonly service: string;
  /** The SST secrets the function is bound to: each must be set, and Stripe keys must match the mode. */
  readonly secrets?: readonly string[];
  /** The consumer books Stripe events by STRIPE_LIVEMODE: it must agree with the mode. */
  readonly checkStripeLivemode?: boolean;
  /** Loads (and thereby validates) WeChat Pay merchant material; a ConfigError means it does not validate. */
  readonly merchants?: () => Promise<unknown>;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

/** Reads what the rule needs from the environment; secrets that are not set come back undefined. */
export async function stageFactsFromEnv(
  env: Env,
  options: StageGuardOptions,
): Promise<StageFacts | undefined> {
  const mode = env[STAGE_MODE_VARIABLE];
  if (mode === undefined || mode === '') return undefined;
  const secrets: Record<string, string | undefined> = {};
  for (const name of options.secrets ?? []) {
    try {
      secrets[name] = await secret(env, name);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      secrets[name] = undefined;
    }
  }
  let merchants: MerchantsCheck | undefined;
  if (options.merchants) {
    try {
      await options.merchants();
      merchants = { valid: true };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      merchants = { valid: false, reason: error.message };
    }
  }
  return {
    stage: env.PAYHOOKS_STAGE ?? '(unknown)',
    mode,
    secrets,
    ...(options.checkStripeLivemode ? { stripeLivemode: env.STRIPE_LIVEMODE ?? '' } : {}),
    ...(merchants ? { merchants } : {}),
  };
}

/** Logs each finding on one line and counts the refusal; the metric drives the StageRefused alarm. */
export function reportRefusal(
  findings: readonly StageFinding[],
  service: string,
  logger: Logger,
  metrics: Metrics,
): void {
  for (const finding of findings) {
    logger.error(`stage refused: ${finding.message}`, { service, code: finding.code });
  }
  metrics.count(STAGE_REFUSED_METRIC, 1);
}

/** Runs the guard; throws StageRefusedError after logging and counting when the stage must not run. */
export async function guardStageFromEnv(env: Env, options: StageGuardOptions): Promise<void> {
  const facts = await stageFactsFromEnv(env, options);
  if (!facts) return;
  const findings = checkStage(facts);
  if (findings.length === 0) return;
  reportRefusal(
    findings,
    options.service,
    options.logger ?? createLogger({ name: options.service }),
    options.metrics ?? metricsFor(options.service, env),
  );
  throw new StageRefusedError(findings);
}

/**
 * Wraps a Lambda handler so the guard runs once per container before the first event (a refusal is retried on
 * the next invocation, and refused again until the secret or declaration is fixed).
 */
export function guarded<A extends unknown[], R>(
  env: Env,
  options: StageGuardOptions,
  handler: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  const guard = once(() => guardStageFromEnv(env, options));
  return async (...args) => {
    await guard();
    return handler(...args);
  };
}

/**
 * PAYHOOKS_PROVIDERS (set by the stacks on a stage's preflight and, on a Stripe-only stage, its operations
 * function): absent means both providers, as before the variable existed.
 */
export function takesWechatpay(env: Env): boolean {
  const providers = env.PAYHOOKS_PROVIDERS;
  return (
    providers === undefined ||
    providers
      .split(',')
      .map((p) => p.trim())
      .includes('wechatpay')
  );
}

/** Every secret a stage binds (stacks/Secrets.ts): what the deploy-time preflight and `payhooks doctor` check. */
export const STAGE_SECRETS = ['STRIPE_WEBHOOK_SECRETS', 'STRIPE_API_KEY'] as const;

/**
 * The findings for a stage without throwing: for `payhooks doctor` (a check among its others; the lead wires it
 * in) and the preflight. `mode` must be known here: a missing PAYHOOKS_STAGE_MODE is itself a finding.
 */
export async function stageFindingsFromEnv(env: Env, options: StageGuardOptions): Promise<StageFinding[]> {
  const facts = await stageFactsFromEnv(
    { ...env, [STAGE_MODE_VARIABLE]: env[STAGE_MODE_VARIABLE] || '(not set)' },
    options,
  );
  return facts ? checkStage(facts) : [];
}
