// `payhooks recon run --file PATH`: reconciles a bill or report file finance already has, through the same parser,
// matcher and report as the scheduled run (core: wechatpayFileSource / stripeFileSource → reconcile). Nothing is
// asked of the provider (no download, no healing): breaks stay as the file shows them; the report's summary.json
// names the file and its SHA-256 (`sourceFiles[].origin = "file"`).
import { ConfigError } from '@payhooks/core/errors';
import type { Sql } from '@payhooks/core/ledger';
import type { Logger, ObjectStore } from '@payhooks/core/ports';
import {
  openLocalFile,
  type ReconcileResult,
  type ReconProgress,
  reconcile,
  refuseFutureBusinessDate,
  stripeFileSource,
  wechatpayFileSource,
} from '@payhooks/core/recon/run';
import { merchantsFromEnv } from '@payhooks/functions/wiring/merchants';

export interface ReconFileRequest {
  sql: Sql;
  store: ObjectStore;
  env: NodeJS.ProcessEnv;
  provider: 'wechatpay' | 'stripe';
  file: string;
  merchant?: string;
  date?: string;
  force: boolean;
  logger: Logger;
  onProgress: (provider: string, account: string, progress: ReconProgress) => void;
  /** The encrypted sub-merchant form: the values its bill API answer carried. */
  encrypted?: { encryptKey?: string; nonce?: string; sha1?: string; subMerchant?: string };
  merchantsFile?: string;
}

const usage = (message: string) => new ConfigError('CLI_USAGE', message);

export async function reconcileFile(request: ReconFileRequest): Promise<ReconcileResult> {
  const { provider, env } = request;
  if (!request.date) throw usage('--file needs --date <YYYY-MM-DD>: the business date the file covers');
  if (!request.merchant)
    throw usage(
      '--file needs --merchant: the WeChat Pay mchid / merchant id, or acct_… / platform for Stripe',
    );
  const date = refuseFutureBusinessDate(provider, request.date, new Date());
  const encrypted = request.encrypted && Object.values(request.encrypted).some(Boolean);
  const file = await openLocalFile(request.file, { encrypted: Boolean(encrypted) });
  let source: ReturnType<typeof wechatpayFileSource>;
  if (provider === 'wechatpay') {
    const needsRegistry = encrypted || !/^\d+$/.test(request.merchant);
    let mchid = request.merchant;
    let privateKey: import('node:crypto').KeyObject | undefined;
    if (needsRegistry) {
      const registry = await merchantsFromEnv({
        ...env,
        ...(request.merchantsFile ? { WECHATPAY_MERCHANTS_FILE: request.merchantsFile } : {}),
      });
      const merchant = registry.byId(request.merchant) ?? registry.byMchid(request.merchant);
      if (!merchant)
        throw usage(`unknown WeChat Pay merchant ${request.merchant} (WECHATPAY_MERCHANTS_FILE)`);
      mchid = merchant.mchid;
      privateKey = merchant.privateKey;
    }
    if (encrypted) {
      const { encryptKey, nonce, sha1, subMerchant } = request.encrypted!;
      if (!encryptKey || !nonce || !sha1 || !subMerchant)
        throw usage(
          'an encrypted sub-merchant bill needs --encrypt-key, --nonce, --sha1 (hash_value) and --sub-merchant',
        );
      source = wechatpayFileSource({
        mchid,
        file,
        encrypted: { encryptKey, nonce, hashValue: sha1, privateKey: privateKey!, subMchid: subMerchant },
      });
    } else source = wechatpayFileSource({ mchid, file });
  } else {
    if (request.merchant !== 'platform' && !request.merchant.startsWith('acct_'))
      throw usage('--merchant for Stripe is acct_… or platform');
    source = stripeFileSource({
      account: request.merchant === 'platform' ? '' : request.merchant,
      file,
      orderMetadataKey: env.STRIPE_ORDER_METADATA_KEY || 'order_id',
    });
  }
  const account = source.account || 'platform';
  request.onProgress(provider, account, { stage: 'file', name: `${file.fileName} (sha256 ${file.sha256})` });
  return reconcile(
    {
      sql: request.sql,
      store: request.store,
      clock: { now: () => new Date() },
      logger: request.logger,
      onProgress: (p) => request.onProgress(provider, account, p),
    },
    { source, businessDate: date, force: request.force },
  );
}

/** One line for the console, as the scheduled runs' description. */
export function describeFileRun(result: ReconcileResult, where: string): string {
  const who = `${result.provider} ${result.account || 'platform'} ${result.businessDate}`;
  if (result.status !== 'succeeded')
    return `  ${who}: ${result.status}${result.error ? ` (${result.error.code}: ${result.error.message})` : result.reason ? ` (${result.reason})` : ''}`;
  return (
    `  ${who}: ${result.counts.matched ?? 0} matched, ${result.breaks.total} break(s) (${result.breaks.unhealed} unhealed) ` +
    `from a file; report ${where}/${result.reportKeys?.pointerKey ?? ''}`
  );
}
