// One way to declare a payhooks Lambda: handler path from docs/architecture.md, an explicit log group with the
// stage's retention and removal policy, and the shared defaults (runtime, architecture, bundling, stage env).
import * as logs from 'aws-cdk-lib/aws-logs';
import { type FunctionProps, Function as SstFunction, type Stack } from 'sst/constructs';
import { FUNCTION_BUNDLING } from './bundling.ts';
import { stageSettings } from './stage.ts';

export const FUNCTIONS_DIR = 'packages/functions/src';

/** Defaults of every function in the app (sst.config.ts): runtime, architecture, tracing, bundling. */
export const FUNCTION_DEFAULTS = {
  runtime: 'nodejs24.x',
  architecture: 'arm_64',
  tracing: 'active',
  nodejs: FUNCTION_BUNDLING,
} as const satisfies FunctionProps;

/**
 * Metrics namespace the handlers publish to. The variable keeps Powertools' name (POWERTOOLS_METRICS_NAMESPACE) though
 * the EMF writer is our own (adapters/metrics.ts): alarms, infra-tests and deployed stages already use it.
 */
export function metricsNamespace(stage: string): string {
  return `payhooks/${stage}`;
}

export interface PayhooksFunctionProps extends Omit<FunctionProps, 'handler' | 'logGroup' | 'timeout'> {
  /** Entry file name without extension, e.g. `consumer` → packages/functions/src/consumer.ts. */
  readonly entry: string;
  readonly timeoutSeconds: number;
  readonly description: string;
}

export function payhooksFunction(stack: Stack, id: string, props: PayhooksFunctionProps): SstFunction {
  const settings = stageSettings(stack.stage);
  const { entry, timeoutSeconds, environment, ...rest } = props;
  const logGroup = new logs.LogGroup(stack, `${id}Logs`, {
    retention: settings.logRetention,
    removalPolicy: settings.removal,
  });
  return new SstFunction(stack, id, {
    ...rest,
    handler: `${FUNCTIONS_DIR}/${entry}.handler`,
    timeout: timeoutSeconds,
    logGroup,
    environment: {
      PAYHOOKS_STAGE: stack.stage,
      // The declared mode (stacks/stages.ts): each function's cold-start stage guard checks its keys against it.
      PAYHOOKS_STAGE_MODE: settings.mode,
      LOG_LEVEL: 'info',
      POWERTOOLS_SERVICE_NAME: entry,
      POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(stack.stage),
      ...environment,
    },
  });
}
