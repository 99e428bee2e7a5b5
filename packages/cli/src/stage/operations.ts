// The stage's operations function, invoked with IAM (lambda:InvokeFunction) for whatever needs the database or the
// providers — never a database password or provider key on the laptop. One port, so tests call the handler itself.
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

export function lambdaOperations(functionName: string, region: string | undefined): OperationsPort {
  return {
    async invoke(request) {
      const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
      // A reconciliation run may take the function's full 15 minutes.
      const client = new LambdaClient({
        ...(region ? { region } : {}),
        requestHandler: { requestTimeout: 16 * 60_000 },
      });
      try {
        const out = await client.send(
          new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(request)) }),
        );
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
      } finally {
        client.destroy();
      }
    },
  };
}
