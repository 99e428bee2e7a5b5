import type { ObjectStore } from '@payhooks/core/ports';
import { createFolderStore } from '@payhooks/local/folder-store';
import { describeReconciliation, runLocalReconciliation } from '@payhooks/local/local-reconciliation';
import type { ReconRunOutcome, ReconRunRequest } from '../stage/reconciliation.ts';

export function folderStore(dir: string): ObjectStore {
  return createFolderStore(dir);
}

export async function reconcileLocally(
  options: ReconRunRequest & {
    merchantsFile?: string;
    reportsDir: string;
    providerApiUrl?: string;
    stripeApiKey?: string;
  },
): Promise<ReconRunOutcome> {
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
