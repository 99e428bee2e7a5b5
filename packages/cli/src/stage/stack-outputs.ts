// A deployed stage's resources, found from its CloudFormation stack outputs (SST v2 names stacks
// `<stage>-payhooks-<Stack>`). The control plane is one port, StackOutputs, so tests give the outputs directly.
import { ConfigError } from '@payhooks/core/errors';

export const APP_NAME = 'payhooks';

/** The one control-plane call the CLI makes: a stack's outputs, or undefined when the stack does not exist. */
export interface StackOutputs {
  outputsOf(stackName: string): Promise<Record<string, string> | undefined>;
}

export interface StageResources {
  stage: string;
  region: string | undefined;
  queueUrl: string;
  dlqUrl: string;
  reportsBucket: string;
  operationsFunction: string;
}

export function stackName(stage: string, stack: string): string {
  return `${stage}-${APP_NAME}-${stack}`;
}

/** Which stack output holds what (stacks/Queue.ts, Reconciliation.ts, Operations.ts). */
const NEEDED = {
  queueUrl: ['Queue', 'QueueUrl'],
  dlqUrl: ['Queue', 'DeadLetterQueueUrl'],
  reportsBucket: ['Reconciliation', 'ReportsBucket'],
  operationsFunction: ['Operations', 'OperationsFunctionName'],
} as const;

export async function findStage(
  stage: string,
  outputs: StackOutputs,
  region?: string,
): Promise<StageResources> {
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(stage))
    throw new ConfigError('CLI_USAGE', `--stage must be an SST stage name, got "${stage}"`);
  const byStack = new Map<string, Record<string, string> | undefined>();
  const found: Partial<Record<keyof typeof NEEDED, string>> = {};
  for (const [key, [stack, output]] of Object.entries(NEEDED) as [
    keyof typeof NEEDED,
    readonly [string, string],
  ][]) {
    const name = stackName(stage, stack);
    if (!byStack.has(name)) byStack.set(name, await outputs.outputsOf(name));
    const stackOutputs = byStack.get(name);
    if (!stackOutputs)
      throw new ConfigError(
        'CLI_STAGE_NOT_FOUND',
        `stack ${name} not found${region ? ` in ${region}` : ''}: is stage "${stage}" deployed there (--region, AWS_REGION)?`,
      );
    const value = stackOutputs[output];
    if (!value)
      throw new ConfigError(
        'CLI_STAGE_OUTPUT_MISSING',
        `stack ${name} has no output ${output}: deploy the current stacks to stage "${stage}"`,
      );
    found[key] = value;
  }
  return { stage, region, ...(found as Omit<StageResources, 'stage' | 'region'>) };
}

/** The real port: CloudFormation DescribeStacks with the operator's credentials. */
export function cloudFormationStackOutputs(region: string | undefined): StackOutputs {
  return {
    async outputsOf(name) {
      const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
      const client = new CloudFormationClient(region ? { region } : {});
      try {
        const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: name }));
        const stack = Stacks[0];
        if (!stack) return undefined;
        return Object.fromEntries(
          (stack.Outputs ?? []).flatMap((o) =>
            o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
          ),
        );
      } catch (error) {
        // DescribeStacks answers a missing stack with a ValidationError "Stack with id … does not exist".
        if ((error as { name?: string }).name === 'ValidationError') return undefined;
        throw error;
      } finally {
        client.destroy();
      }
    },
  };
}
