// The platform-certificate refresher's wiring (Lambda certificates-wechatpay on a schedule; the local runtime's
// cron): every run reads the merchants' current parts (verify to compare, decrypt for the APIv3 key, sign to call
// WeChat Pay), downloads `/v3/certificates` through the signed WechatpayClient and stores changed verify parts —
// in SSM on a stage (WECHATPAY_PARAMETERS), in the verify file locally (WECHATPAY_MERCHANTS_VERIFY_FILE).
import { readFile, rename, writeFile } from 'node:fs/promises';
import { ConfigError } from '@payhooks/core/errors';
import { createLogger } from '@payhooks/core/logger';
import { type Clock, type Logger, type Metrics, systemClock } from '@payhooks/core/ports';
import {
  type MerchantRefreshOutcome,
  parseMerchantParts,
  parsePartsDocument,
  refreshPlatformCertificates,
  type VerifyPart,
  type VerifyPartStore,
  WechatpayClient,
} from '@payhooks/core/providers/wechatpay';
import { metricsFor } from '../adapters/metrics.ts';
import { ssmVerifyPartStore } from '../adapters/ssm-verify-parts.ts';
import type { Env } from '../config.ts';
import { loadMerchantParts, type ParameterReader, PURPOSE_FILE_VARIABLE } from './merchants.ts';

/**
 * The local verify file as a store: the merchant's part is replaced in `{ "merchants": [...] }` and the file
 * swapped in by rename (owner-only), so a webhook reading it never sees half a document.
 */
export function verifyFileStore(file: string): VerifyPartStore {
  return {
    async write(part) {
      const merchants = parsePartsDocument('verify', await readFile(file, 'utf8')) as VerifyPart[];
      const next = merchants.some((m) => m.id === part.id)
        ? merchants.map((m) => (m.id === part.id ? part : m))
        : [...merchants, part];
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify({ merchants: next }, null, 2)}\n`, { mode: 0o600 });
      await rename(temporary, file);
    },
  };
}

export function verifyPartStoreFromEnv(env: Env): VerifyPartStore {
  const file = env[PURPOSE_FILE_VARIABLE.verify];
  if (file) return verifyFileStore(file);
  if (env.WECHATPAY_PARAMETERS) return ssmVerifyPartStore(env.WECHATPAY_PARAMETERS);
  throw new ConfigError(
    'CONFIG_MISSING',
    'WECHATPAY_PARAMETERS (a stage) or WECHATPAY_MERCHANTS_VERIFY_FILE (local) must say where verify parts are stored',
  );
}

export interface CertificateRefreshOptions {
  store?: VerifyPartStore;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  readParameters?: ParameterReader;
}

export type CertificateRefreshHandler = () => Promise<MerchantRefreshOutcome[]>;

export function createCertificateRefreshHandler(
  env: Env,
  options: CertificateRefreshOptions = {},
): CertificateRefreshHandler {
  const logger = options.logger ?? createLogger({ name: 'certificates-wechatpay' });
  const metrics = options.metrics ?? metricsFor('certificates-wechatpay', env);
  const clock = options.clock ?? systemClock;
  const baseUrl = env.WECHATPAY_API_BASE_URL;
  return async () => {
    const store = options.store ?? verifyPartStoreFromEnv(env);
    // Read afresh on every run: the job compares against what the webhook reads now.
    const parts = await loadMerchantParts(env, ['verify', 'decrypt', 'sign'], options.readParameters);
    const registry = parseMerchantParts(parts);
    const outcomes = await refreshPlatformCertificates(parts.verify, {
      store,
      clock,
      logger,
      metrics,
      async download(id) {
        const merchant = registry.byId(id);
        if (!merchant) throw new ConfigError('CONFIG_INVALID', `merchant "${id}" has no sign/decrypt parts`);
        const client = new WechatpayClient({
          merchant,
          clock,
          ...(baseUrl ? { baseUrl, failoverBaseUrl: null } : {}),
        });
        return client.platformCertificates(merchant.apiv3Key);
      },
    });
    logger.info('wechatpay platform certificate refresh finished', {
      merchants: outcomes.map((o) => ({ id: o.id, outcome: o.outcome })),
    });
    return outcomes;
  };
}
