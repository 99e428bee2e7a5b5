// Local-only reconciliation for the CLI: the `npm start` stack's reports folder and its provider API sandbox
// (.payhooks/local.json). The only part of the CLI that imports @payhooks/local; commands load it on demand,
// so acting on a deployed stage never does.
import type { Sql } from '@payhooks/core/ledger';
import type { Logger, ObjectStore } from '@payhooks/core/ports';
import type { ReconProgress } from '@payhooks/core/recon/run';
import { createFolderStore } from '@payhooks/local/folder-store';
import { describeReconciliation, runLocalReconciliation } from '@payhooks/local/local-reconciliation';

export function folderStore(dir: string): ObjectStore {
  return createFolderStore(dir);
}

export async function reconcileLocally(options: {
  sql: Sql;
  env: NodeJS.ProcessEnv;
  merchantsFile?: string;
  reportsDir: string;
  providerApiUrl?: string;
  stripeApiKey?: string;
  provider: 'wechatpay' | 'stripe';
  date?: string;
  account?: string;
  force: boolean;
  logger: Logger;
  onProgress: (provider: string, account: string, progress: ReconProgress) => void;
}): Promise<{ description: string; failed: boolean }> {
  const { provider, merchantsFile } = options;
  const outcome = await runLocalReconciliation({
    sql: options.sql,
    env: { ...options.env, ...(merchantsFile ? { WECHATPAY_MERCHANTS_FILE: merchantsFile } : {}) },
    reportsDir: options.reportsDir,
    ...(options.providerApiUrl ? { providerApiUrl: options.providerApiUrl } : {}),
    ...(options.stripeApiKey ? { stripeApiKey: options.stripeApiKey } : {}),
    providers: [provider],
    dates: options.date ? { [provider]: options.date } : {},
    force: options.force,
    ...(options.account ? { account: options.account } : {}),
    logger: options.logger,
    onProgress: options.onProgress,
  });
  return {
    description: describeReconciliation(outcome),
    failed: outcome.results.some((r) => r.status === 'failed'),
  };
}
