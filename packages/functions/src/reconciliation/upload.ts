// Reconciliation of a bill or report file finance uploaded in the console: the file is read from the reports store
// (under `uploads/`, where the console put it) and reconciled with the providers' file sources — the `recon run
// --file` path: nothing is asked of the provider, so there is no healing and no provider key. It runs in the
// console's upload function with the reconciliation database role (docs/decisions.md "Console uploads on AWS").
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ReconUploadAnswer, UploadStatus } from '@payhooks/console/api';
import { PayhooksError } from '@payhooks/core/errors';
import type { Sql } from '@payhooks/core/ledger';
import type { Clock, Logger, ObjectStore } from '@payhooks/core/ports';
import { openLocalFile, reconcile, stripeFileSource, wechatpayFileSource } from '@payhooks/core/recon/run';

/** Where uploaded files are kept in the reports bucket; the console may write here and nowhere else. */
export const UPLOAD_PREFIX = 'uploads/';

/** What the upload function is invoked with. */
export interface UploadEvent {
  /** The object key, under UPLOAD_PREFIX. */
  file: string;
  provider: 'wechatpay' | 'stripe';
  /** WeChat Pay mchid; Stripe `acct_…` or `platform`. */
  merchant: string;
  /** Business date YYYY-MM-DD. */
  date: string;
  fileName: string;
  force?: boolean;
}

/** The function's answer: the run, or the one line why the file could not be reconciled. */
export type UploadOutcome = ({ ok: true } & ReconUploadAnswer) | { ok: false; code: string; message: string };

/**
 * Where an upload's state is kept: an object beside the file, written `queued` by the console API and then
 * `running` and `done` / `failed` by the upload function, which the console invokes without waiting (a run can take
 * longer than API Gateway's 29 s). The page polls it through the console API (docs/decisions.md "Asynchronous uploads").
 */
export function uploadStatusKey(file: string): string {
  return `${file}.status.json`;
}

export async function readUploadStatus(store: ObjectStore, file: string): Promise<UploadStatus | undefined> {
  const bytes = await store.get(uploadStatusKey(file));
  return bytes ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as UploadStatus) : undefined;
}

export function writeUploadStatus(store: ObjectStore, file: string, status: UploadStatus): Promise<void> {
  return store.put(uploadStatusKey(file), JSON.stringify(status), 'application/json');
}

export interface UploadDeps {
  sql: Sql;
  store: ObjectStore;
  clock: Clock;
  logger: Logger;
  orderMetadataKey: string;
}

class UploadRefused extends PayhooksError {}

function checked(event: UploadEvent): UploadEvent {
  const e = (event ?? {}) as Partial<UploadEvent>;
  if (typeof e.file !== 'string' || !e.file.startsWith(UPLOAD_PREFIX) || e.file.includes('..'))
    throw new UploadRefused('UPLOAD_BAD_KEY', `file must be a key under ${UPLOAD_PREFIX}`);
  if (e.provider !== 'wechatpay' && e.provider !== 'stripe')
    throw new UploadRefused('UPLOAD_BAD_PROVIDER', 'provider must be wechatpay or stripe');
  if (typeof e.merchant !== 'string' || !/^[\w-]+$/.test(e.merchant))
    throw new UploadRefused('UPLOAD_BAD_MERCHANT', 'merchant must be a mchid, acct_… or platform');
  if (typeof e.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(e.date))
    throw new UploadRefused('UPLOAD_BAD_DATE', 'date must be YYYY-MM-DD');
  return e as UploadEvent;
}

/**
 * The upload function: reconciles the file once and records the outcome in its status object. An invocation that
 * finds the upload already taken (Lambda may deliver an asynchronous event twice) answers the recorded state and
 * reconciles nothing; a fault is recorded as `failed` with a line that carries no internals (they go to the log), so
 * the page never waits on a run that died.
 */
export async function runUpload(deps: UploadDeps, event: UploadEvent): Promise<UploadOutcome> {
  let valid: UploadEvent;
  try {
    valid = checked(event);
  } catch (error) {
    return refusal(error);
  }
  const key = valid.file;
  const recorded = await readUploadStatus(deps.store, key);
  if (recorded && recorded.state !== 'queued') return outcomeOf(recorded);
  const startedAt = recorded?.startedAt ?? deps.clock.now().toISOString();
  await writeUploadStatus(deps.store, key, { state: 'running', key, startedAt });
  let outcome: UploadOutcome;
  try {
    outcome = await reconcileFile(deps, valid);
  } catch (error) {
    deps.logger.error('uploaded file could not be reconciled', { key, error: String(error) });
    outcome = {
      ok: false,
      code: 'UPLOAD_FAULT',
      message: `the upload function failed; the file is kept as ${key}`,
    };
  }
  const finishedAt = deps.clock.now().toISOString();
  await writeUploadStatus(
    deps.store,
    key,
    outcome.ok
      ? { state: 'done', key, startedAt, finishedAt, file: outcome.file, result: outcome.result }
      : { state: 'failed', key, startedAt, finishedAt, code: outcome.code, message: outcome.message },
  );
  return outcome;
}

function outcomeOf(status: UploadStatus): UploadOutcome {
  if (status.state === 'done') return { ok: true, file: status.file, result: status.result };
  if (status.state === 'failed') return { ok: false, code: status.code, message: status.message };
  return { ok: false, code: 'UPLOAD_TAKEN', message: `upload ${status.key} is already being reconciled` };
}

function refusal(error: unknown): UploadOutcome {
  if (error instanceof PayhooksError) return { ok: false, code: error.code, message: error.message };
  throw error;
}

/** Reconciles the (checked) event's file with the providers' file sources; our refusals come back as outcomes. */
async function reconcileFile(deps: UploadDeps, event: UploadEvent): Promise<UploadOutcome> {
  try {
    const { file: key, provider, merchant, date, force } = event;
    const bytes = await deps.store.get(key);
    if (!bytes) throw new UploadRefused('UPLOAD_MISSING', `no uploaded file ${key}`);
    const fileName = path.basename(event.fileName || key);
    const dir = await mkdtemp(path.join(tmpdir(), 'payhooks-upload-'));
    try {
      const filePath = path.join(dir, fileName.replace(/[^\w.-]/g, '_') || 'upload');
      await writeFile(filePath, bytes, { mode: 0o600 });
      const file = await openLocalFile(filePath);
      const source =
        provider === 'wechatpay'
          ? wechatpayFileSource({ mchid: merchant, file })
          : stripeFileSource({
              account: merchant === 'platform' ? '' : merchant,
              file,
              orderMetadataKey: deps.orderMetadataKey,
            });
      const result = await reconcile(
        { sql: deps.sql, store: deps.store, clock: deps.clock, logger: deps.logger },
        { source, businessDate: date, force: force ?? false },
      );
      deps.logger.info('uploaded file reconciled', { key, provider, merchant, date, status: result.status });
      return { ok: true, file: { name: fileName, key, bytes: file.bytes, sha256: file.sha256 }, result };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } catch (error) {
    // Our own refusals (a file of no known kind, a future date…) go back as one line; anything else is a fault.
    return refusal(error);
  }
}
