// The console's upload port (ReconUploads), one implementation for a stage and the local runtime: the file goes
// into the reports store under uploads/<provider>/<account>/<date>/, then the upload function reconciles it from
// there with the reconciliation role. In a stage that function is invoked through Lambda (RequestResponse: the
// page shows the run's outcome); locally the same handler runs in process.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  ConsoleApiError,
  type ReconUpload,
  type ReconUploadAnswer,
  type ReconUploads,
} from '@payhooks/console/api';
import type { Clock, ObjectStore } from '@payhooks/core/ports';
import { UPLOAD_PREFIX, type UploadEvent, type UploadOutcome } from '../reconciliation/upload.ts';

/** One call of the upload function. */
export type InvokeUpload = (event: UploadEvent) => Promise<UploadOutcome>;

/** `uploads/<provider>/<account>/<date>/<time>-<id>-<name>`: never overwrites, sorts by upload time. */
export function uploadKey(upload: ReconUpload, at: Date): string {
  const name = path.basename(upload.fileName).replace(/[^\w.-]/g, '_') || 'upload';
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  return `${UPLOAD_PREFIX}${upload.provider}/${upload.account}/${upload.businessDate}/${stamp}-${randomUUID().slice(0, 8)}-${name}`;
}

export function reconUploadsVia(options: {
  store: ObjectStore;
  invoke: InvokeUpload;
  clock: Clock;
}): ReconUploads {
  return {
    async reconcile(upload): Promise<ReconUploadAnswer> {
      const key = uploadKey(upload, options.clock.now());
      await options.store.put(key, upload.bytes, 'application/octet-stream');
      const outcome = await options.invoke({
        file: key,
        provider: upload.provider,
        merchant: upload.account,
        date: upload.businessDate,
        fileName: upload.fileName,
        force: upload.force,
      });
      if (!outcome.ok) throw new ConsoleApiError(422, outcome.code, outcome.message);
      return { file: outcome.file, result: outcome.result };
    },
  };
}

/** Lambda's Invoke, as far as this adapter reads it. */
export interface InvokeResult {
  Payload?: Uint8Array;
  FunctionError?: string;
}

/** The upload function through Lambda's synchronous Invoke (the SDK client, or a test's transport). */
export function lambdaInvokeUpload(
  functionName: string,
  send: (functionName: string, payload: Uint8Array) => Promise<InvokeResult> = sdkInvoke(),
): InvokeUpload {
  return async (event) => {
    const out = await send(functionName, Buffer.from(JSON.stringify(event)));
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    if (out.FunctionError) {
      // The function's own crash report ({errorType, errorMessage}); its stack stays in its log.
      let why = out.FunctionError;
      try {
        const report = JSON.parse(text) as { errorType?: string; errorMessage?: string };
        why = `${report.errorType ?? out.FunctionError}: ${report.errorMessage ?? ''}`;
      } catch {}
      // 502: the console's own function failed behind it; the file stays under uploads/ for a re-run.
      throw new ConsoleApiError(
        502,
        'UPLOAD_FUNCTION_FAILED',
        `the upload function failed (${why}); the file is kept as ${event.file}`,
      );
    }
    return JSON.parse(text) as UploadOutcome;
  };
}

function sdkInvoke() {
  let client: import('@aws-sdk/client-lambda').LambdaClient | undefined;
  return async (functionName: string, payload: Uint8Array): Promise<InvokeResult> => {
    // Loaded on the first upload only: most console requests never need the Lambda client.
    const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
    client ??= new LambdaClient({});
    return client.send(new InvokeCommand({ FunctionName: functionName, Payload: payload }));
  };
}
