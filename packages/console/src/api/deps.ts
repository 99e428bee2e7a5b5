// What the console API is built from: explicit dependencies, given by the Lambda wiring (functions) or the local
// runtime — never read from the environment here.
import type { Sql } from '@payhooks/core/ledger';
import type { Clock, Logger, ObjectStore } from '@payhooks/core/ports';
import type { ReconcileResult } from '@payhooks/core/recon/run';
import type { OpsDeps } from './ops/types.ts';

/** A bill or report file finance uploaded, as the console API checked it. */
export interface ReconUpload {
  provider: 'wechatpay' | 'stripe';
  /** WeChat Pay mchid; Stripe `acct_…` or `platform`. */
  account: string;
  businessDate: string;
  fileName: string;
  bytes: Uint8Array;
  /** Replace a report that already succeeded for that date. */
  force: boolean;
}

export interface ReconUploadAnswer {
  /** `key`: where the file is kept in the reports store (under `uploads/`). */
  file: { name: string; key: string; bytes: number; sha256: string };
  result: ReconcileResult;
}

/**
 * Where an upload stands. `queued` when the console API kept the file and started the upload function, `running`
 * once the function took it, then `done` (the run: it may itself be `failed`, e.g. a file of no known kind) or
 * `failed` (the function could not run it: the one line why). Times are ISO strings.
 */
export type UploadStatus =
  | { state: 'queued' | 'running'; key: string; startedAt: string }
  | ({ state: 'done'; key: string; startedAt: string; finishedAt: string } & ReconUploadAnswer)
  | { state: 'failed'; key: string; startedAt: string; finishedAt: string; code: string; message: string };

/**
 * Reconciles an uploaded file with the reconciliation role, never the console's own (payhooks_console may not
 * write reconciliation tables): the file is kept under the reports store's `uploads/` prefix and the upload
 * function reconciles it from there — an asynchronous Lambda invoke in a stage, the same function in the background
 * locally — so a run longer than API Gateway's 29 s never ends the page's request; the page polls `status`.
 */
export interface ReconUploads {
  /** Keeps the file, records it `queued` and starts the run without waiting; answers the file's key. */
  start(upload: ReconUpload): Promise<{ key: string }>;
  /** The upload's state; undefined for a key that was never uploaded. */
  status(key: string): Promise<UploadStatus | undefined>;
}

export interface ConsoleApiDeps {
  sql: Sql;
  /** The reports store; its `link` gives the short-lived download links (pre-signed S3, or the local gateway's). */
  reports: ObjectStore;
  /** How long a download link lives. Default 300 s. */
  linkSeconds?: number;
  clock: Clock;
  logger: Logger;
  /** Origins allowed for state changes besides the request's own host. */
  allowedOrigins?: readonly string[];
  /** Stripe metadata key holding the merchant order number, for uploaded Stripe report files. */
  stripeOrderMetadataKey?: string;
  /** The operations routes' queues (dead letters, replay, depth, oldest age) and recent rejections. */
  ops?: OpsDeps;
  /** Where uploaded bill/report files are reconciled; absent: the upload route answers 503. */
  uploads?: ReconUploads;
}
