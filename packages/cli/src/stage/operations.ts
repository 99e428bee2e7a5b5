// The stage's operations function, invoked with IAM (lambda:InvokeFunction) for whatever needs the database or the
// providers — never a database password or provider key on the laptop. One port, so tests call the handler itself;
// under it, one transport (the Lambda Invoke call), so a test can swap only the network hop and keep the request
// and response encoding, the FunctionError handling and the error lines the CLI prints.
import { PayhooksError } from '@payhooks/core/errors';
import type { OperationRequest, OperationResponse } from '@payhooks/functions/operations';

export interface OperationsPort {
  invoke(request: OperationRequest): Promise<OperationResponse>;
}

/** The operations function answered with an error code (an error it raised on purpose) or failed outright. */
export class OperationFailedError extends PayhooksError {}

/** Unwraps a response: the result, or the function's own code and message as a one-line error. */
export async function operate<T>(port: OperationsPort, request: OperationRequest): Promise<T> {
  const response = await port.invoke(request);
  if (!response.ok) throw new OperationFailedError(response.code, response.message);
  return response.result as T;
}

/** What Lambda's Invoke (RequestResponse) returns that the CLI reads. */
export interface InvokeOutput {
  Payload?: Uint8Array;
  /** Set when the function threw ("Unhandled"); Payload is then `{errorType, errorMessage, …}`. */
  FunctionError?: string;
}

/** One synchronous invocation of a function by name: the AWS SDK's InvokeCommand, or a test's in-process call. */
export type InvokeTransport = (functionName: string, payload: Uint8Array) => Promise<InvokeOutput>;

export function sdkInvokeTransport(region: string | undefined): InvokeTransport {
  return async (functionName, payload) => {
    const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
    // A reconciliation run may take the function's full 15 minutes.
    const client = new LambdaClient({
      ...(region ? { region } : {}),
      requestHandler: { requestTimeout: 16 * 60_000 },
    });
    try {
      return await client.send(new InvokeCommand({ FunctionName: functionName, Payload: payload }));
    } finally {
      client.destroy();
    }
  };
}

/**
 * The Invoke call's own refusals, as one line naming the function and what to check: the caller may not invoke it
 * (AccessDeniedException: the operator policy is missing), or it does not exist (a stage deployed before the
 * operations function, or another region). Anything else propagates unchanged.
 */
function invokeRefusal(error: unknown, functionName: string): OperationFailedError | undefined {
  const name = (error as { name?: string }).name;
  if (name === 'AccessDeniedException')
    return new OperationFailedError(
      'OPERATIONS_ACCESS_DENIED',
      `not allowed to invoke ${functionName} (lambda:InvokeFunction): use credentials with the stage's operator policy`,
    );
  if (name === 'ResourceNotFoundException')
    return new OperationFailedError(
      'OPERATIONS_NOT_FOUND',
      `operations function ${functionName} does not exist: deploy the current stacks to the stage, or check --region`,
    );
  return undefined;
}

export function lambdaOperations(
  functionName: string,
  region: string | undefined,
  transport: InvokeTransport = sdkInvokeTransport(region),
): OperationsPort {
  return {
    async invoke(request) {
      let out: InvokeOutput;
      try {
        out = await transport(functionName, Buffer.from(JSON.stringify(request)));
      } catch (error) {
        throw invokeRefusal(error, functionName) ?? error;
      }
      const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
      if (out.FunctionError) {
        let detail = text;
        try {
          const parsed = JSON.parse(text) as { errorType?: string; errorMessage?: string };
          detail = `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage ?? ''}`;
        } catch {}
        throw new OperationFailedError(
          'OPERATIONS_FAILED',
          `operations function ${functionName} failed (${detail}); its log group has the stack`,
        );
      }
      return JSON.parse(text) as OperationResponse;
    },
  };
}
