// A deployed stage in one process, for `payhooks --stage NAME …` tests: the stage's stack outputs are given (the
// CLI's StackOutputs port), queues are the SQS emulator through the real SDK, and the operations function is its
// real handler (createOperationsHandler) on real Postgres, the provider sandbox and a folder object store. Only the
// Lambda Invoke network hop is swapped (lambdaOperations' InvokeTransport): the CLI still encodes the request,
// decodes the payload and turns a FunctionError or an Invoke refusal into its one-line error, as against AWS.
import type { SQSClient } from '@aws-sdk/client-sqs';
import { PayhooksError } from '@payhooks/core/errors';
import type { createOperationsHandler } from '@payhooks/functions/operations';
import { type InvokeTransport, lambdaOperations } from '../../src/stage/operations.ts';
import type { StagePorts } from '../../src/target.ts';

type OperationsHandler = ReturnType<typeof createOperationsHandler>;

export interface StageHarnessOptions {
  stage: string;
  queueUrl: string;
  dlqUrl: string;
  reportsBucket: string;
  sqs: SQSClient;
  /** The operations function's handler, as Lambda would run it with the stage's environment. */
  operations: OperationsHandler;
}

export interface StageHarness {
  ports: StagePorts;
  /** The function name the CLI found in the stage's outputs, per invocation, and the request it sent. */
  invocations: { functionName: string; request: unknown }[];
  /** From now on Invoke answers as IAM does for a principal without lambda:InvokeFunction. */
  denyInvoke(): void;
}

/** Lambda's RequestResponse contract: JSON in; JSON out, or FunctionError "Unhandled" with the error's fields. */
export function inProcessLambda(
  functions: ReadonlyMap<string, OperationsHandler>,
  invocations: StageHarness['invocations'],
  denied: () => boolean,
): InvokeTransport {
  return async (functionName, payload) => {
    if (denied())
      throw Object.assign(
        new Error(
          `User: arn:aws:iam::123456789012:user/finance is not authorized to perform: lambda:InvokeFunction on resource: ${functionName}`,
        ),
        { name: 'AccessDeniedException' },
      );
    const handler = functions.get(functionName);
    if (!handler)
      throw Object.assign(new Error(`Function not found: ${functionName}`), {
        name: 'ResourceNotFoundException',
      });
    const request: unknown = JSON.parse(Buffer.from(payload).toString('utf8'));
    invocations.push({ functionName, request });
    try {
      return { Payload: Buffer.from(JSON.stringify(await handler(request))) };
    } catch (error) {
      const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
      return {
        FunctionError: 'Unhandled',
        Payload: Buffer.from(JSON.stringify({ errorType: name, errorMessage: message })),
      };
    }
  };
}

export function stageHarness(options: StageHarnessOptions): StageHarness {
  const functionName = `${options.stage}-payhooks-Operations-OperationsFunction`;
  const invocations: StageHarness['invocations'] = [];
  let denied = false;
  const transport = inProcessLambda(new Map([[functionName, options.operations]]), invocations, () => denied);
  const outputs: Record<string, Record<string, string>> = {
    [`${options.stage}-payhooks-Queue`]: { QueueUrl: options.queueUrl, DeadLetterQueueUrl: options.dlqUrl },
    [`${options.stage}-payhooks-Reconciliation`]: { ReportsBucket: options.reportsBucket },
    [`${options.stage}-payhooks-Operations`]: { OperationsFunctionName: functionName },
  };
  return {
    ports: {
      stackOutputs: () => ({ outputsOf: async (name) => outputs[name] }),
      operations: (name, region) => lambdaOperations(name, region, transport),
      sqs: () => options.sqs,
    },
    invocations,
    denyInvoke: () => {
      denied = true;
    },
  };
}

/** What main.ts prints for an error thrown on purpose: `CODE: message`, one line. */
export function errorLine(error: unknown): string {
  if (!(error instanceof PayhooksError)) throw error;
  return `${error.code}: ${error.message}`;
}
