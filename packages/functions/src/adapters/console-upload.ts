// The console's upload port (ReconUploads), one implementation for a stage and the local runtime: the file goes
// into the reports store under uploads/<provider>/<account>/<date>/ with a `queued` status object beside it, then
// the upload function is started without waiting — Lambda's asynchronous Invoke in a stage (a run can outlast API
// Gateway's 29 s), the same handler in the background locally — and reconciles it with the reconciliation role,
// recording `running` and `done` / `failed` in that status object, which the page polls.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  ConsoleApiError,
  type ReconUpload,
  type ReconUploads,
  type UploadStatus,
} from '@payhooks/console/api';
import type { Clock, ObjectStore } from '@payhooks/core/ports';
import {
  readUploadStatus,
  UPLOAD_PREFIX,
  type UploadEvent,
  writeUploadStatus,
} from '../reconciliation/upload.ts';

/** Starts one run of the upload function and returns once it is started, not finished. */
export type StartUpload = (event: UploadEvent) => Promise<void>;

/** `uploads/<provider>/<account>/<date>/<time>-<id>-<name>`: never overwrites, sorts by upload time. */
export function uploadKey(upload: ReconUpload, at: Date): string {
  const name = path.basename(upload.fileName).replace(/[^\w.-]/g, '_') || 'upload';
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  return `${UPLOAD_PREFIX}${upload.provider}/${upload.account}/${upload.businessDate}/${stamp}-${randomUUID().slice(0, 8)}-${name}`;
}

export function reconUploadsVia(options: {
  store: ObjectStore;
  start: StartUpload;
  clock: Clock;
  /**
   * How long an upload may stay queued or running before it is answered as failed: the upload function's timeout
   * plus Lambda's queueing margin. A run that died without recording its end (timeout, out of memory) ends there.
   */
  stalledAfterSeconds: number;
}): ReconUploads {
  const { store, clock } = options;
  return {
    async start(upload) {
      const key = uploadKey(upload, clock.now());
      await store.put(key, upload.bytes, 'application/octet-stream');
      const startedAt = clock.now().toISOString();
      await writeUploadStatus(store, key, { state: 'queued', key, startedAt });
      try {
        await options.start({
          file: key,
          provider: upload.provider,
          merchant: upload.account,
          date: upload.businessDate,
          fileName: upload.fileName,
          force: upload.force,
        });
      } catch (error) {
        const message = `the upload function could not be started (${(error as Error).name}); the file is kept as ${key}`;
        await writeUploadStatus(store, key, {
          state: 'failed',
          key,
          startedAt,
          finishedAt: clock.now().toISOString(),
          code: 'UPLOAD_NOT_STARTED',
          message,
        });
        // 502: the function behind the console could not be reached; nothing was reconciled.
        throw new ConsoleApiError(502, 'UPLOAD_NOT_STARTED', message);
      }
      return { key };
    },
    async status(key) {
      const status = await readUploadStatus(store, key);
      if (!status || status.state === 'done' || status.state === 'failed') return status;
      const waitedSeconds = (clock.now().getTime() - Date.parse(status.startedAt)) / 1000;
      if (waitedSeconds <= options.stalledAfterSeconds) return status;
      return {
        state: 'failed',
        key,
        startedAt: status.startedAt,
        finishedAt: clock.now().toISOString(),
        code: 'UPLOAD_STALLED',
        message: `the upload function recorded no end within ${options.stalledAfterSeconds} s (see its log); the file is kept as ${key}`,
      } satisfies UploadStatus;
    },
  };
}

/** Lambda's Invoke, as far as this adapter reads it. */
export interface InvokeResult {
  StatusCode?: number;
  FunctionError?: string;
}

/**
 * The upload function through Lambda's asynchronous Invoke (`InvocationType: 'Event'`: Lambda queues the event and
 * answers 202 at once). `send` is the SDK client, or a test's transport.
 */
export function lambdaStartUpload(
  functionName: string,
  send: (functionName: string, payload: Uint8Array) => Promise<InvokeResult> = sdkInvoke(),
): StartUpload {
  return async (event) => {
    const out = await send(functionName, Buffer.from(JSON.stringify(event)));
    if (out.StatusCode !== 202)
      throw new Error(`Lambda answered the asynchronous invoke with ${out.StatusCode}`);
  };
}

function sdkInvoke() {
  let client: import('@aws-sdk/client-lambda').LambdaClient | undefined;
  return async (functionName: string, payload: Uint8Array): Promise<InvokeResult> => {
    // Loaded on the first upload only: most console requests never need the Lambda client.
    const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
    client ??= new LambdaClient({});
    return client.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: payload }),
    );
  };
}
