// The scheduled platform-certificate refresh (docs/wechatpay-merchants.md "Platform certificates refresh
// themselves"): for each merchant in certificate mode, download `/v3/certificates`, compute the next verify part
// and store it where the webhook reads it. Nothing here runs on the request path; the webhook re-reads its verify
// parts on a short container-level TTL. One merchant's failure does not stop the others; the run then throws so
// the job's error alarm fires, and the expiry metric still reports the keys the webhook holds.
import crypto from 'node:crypto';
import { PayhooksError } from '../../errors.ts';
import { errorFields } from '../../logger.ts';
import type { Clock, Logger, Metrics } from '../../ports.ts';
import type { VerifyPart } from './merchant-parts.ts';
import {
  nextVerificationKeys,
  type PlatformCertificate,
  PUBLIC_KEY_ID_PREFIX,
  usesPlatformCertificates,
} from './platform-certificates.ts';

export const CERTIFICATE_REFRESH_METRICS = {
  /** Minimum over certificate-mode merchants of the days until their latest certificate expires. */
  daysLeft: 'PlatformCertificateDaysLeft',
  updated: 'PlatformCertificatesUpdated',
  failed: 'PlatformCertificateRefreshFailed',
} as const;

/** Alarm threshold: WeChat lists a replacement 24 h before a rotation; a week without one needs a person. */
export const CERTIFICATE_EXPIRY_WARNING_DAYS = 7;

/** Where the webhook's verify parts live: SSM `/payhooks/<stage>/wechatpay/verify/<id>`, or the local file. */
export interface VerifyPartStore {
  write(part: VerifyPart): Promise<void>;
}

export interface CertificateRefreshDeps {
  /** The merchant's listed certificates, decrypted and the answer verified (WechatpayClient.platformCertificates). */
  download(merchantId: string): Promise<PlatformCertificate[]>;
  store: VerifyPartStore;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

export type MerchantRefreshOutcome =
  | { id: string; outcome: 'public-key-mode' }
  | { id: string; outcome: 'unchanged' | 'updated'; added: string[]; removed: string[]; latestExpiry: Date }
  | { id: string; outcome: 'failed'; code: string };

export class CertificateRefreshError extends PayhooksError {
  constructor(readonly failed: readonly string[]) {
    super(
      'WECHATPAY_CERTIFICATE_REFRESH_FAILED',
      `platform certificates could not be refreshed for merchant(s) ${failed.join(', ')} (see the log lines before)`,
    );
  }
}

const DAY_MS = 86_400_000;

/** The latest notAfter among a part's stored certificates (what the webhook holds when a refresh fails). */
function storedLatestExpiry(part: VerifyPart): Date | undefined {
  let latest: Date | undefined;
  for (const [serial, pem] of Object.entries(part.verificationKeys)) {
    if (serial.startsWith(PUBLIC_KEY_ID_PREFIX) || !pem.includes('CERTIFICATE-----')) continue;
    try {
      const notAfter = new Date(new crypto.X509Certificate(pem).validTo);
      if (!latest || notAfter > latest) latest = notAfter;
    } catch {
      // An unparseable stored key was refused at load time already; it says nothing about expiry.
    }
  }
  return latest;
}

function sameKeys(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((serial) => b[serial] === a[serial]);
}

export async function refreshPlatformCertificates(
  parts: readonly VerifyPart[],
  deps: CertificateRefreshDeps,
): Promise<MerchantRefreshOutcome[]> {
  const { logger, metrics, clock } = deps;
  const outcomes: MerchantRefreshOutcome[] = [];
  let soonest: Date | undefined;
  const consider = (expiry: Date | undefined) => {
    if (expiry && (!soonest || expiry < soonest)) soonest = expiry;
  };
  for (const part of parts) {
    if (!usesPlatformCertificates(part.verificationKeys)) {
      outcomes.push({ id: part.id, outcome: 'public-key-mode' });
      continue;
    }
    try {
      const listed = await deps.download(part.id);
      const next = nextVerificationKeys(part.verificationKeys, listed, clock.now());
      const changed = !sameKeys(part.verificationKeys, next.verificationKeys);
      if (changed) {
        await deps.store.write({ ...part, verificationKeys: next.verificationKeys });
        metrics.count(CERTIFICATE_REFRESH_METRICS.updated, 1);
        logger.info('wechatpay platform certificates stored', {
          merchant: part.id,
          added: next.added,
          removed: next.removed,
          latestExpiry: next.latestExpiry.toISOString(),
        });
      }
      consider(next.latestExpiry);
      outcomes.push({
        id: part.id,
        outcome: changed ? 'updated' : 'unchanged',
        added: next.added,
        removed: next.removed,
        latestExpiry: next.latestExpiry,
      });
    } catch (error) {
      consider(storedLatestExpiry(part));
      metrics.count(CERTIFICATE_REFRESH_METRICS.failed, 1);
      logger.error('wechatpay platform certificates not refreshed; the stored keys stay', {
        merchant: part.id,
        ...errorFields(error),
      });
      outcomes.push({
        id: part.id,
        outcome: 'failed',
        code: error instanceof PayhooksError ? error.code : 'UNEXPECTED',
      });
    }
  }
  if (soonest) {
    const daysLeft = Math.max(0, Math.floor((soonest.getTime() - clock.now().getTime()) / DAY_MS));
    metrics.count(CERTIFICATE_REFRESH_METRICS.daysLeft, daysLeft);
    if (daysLeft < CERTIFICATE_EXPIRY_WARNING_DAYS) {
      logger.warn('a wechatpay merchant has no platform certificate valid beyond the warning window', {
        daysLeft,
        warningDays: CERTIFICATE_EXPIRY_WARNING_DAYS,
      });
    }
  }
  const failed = outcomes.filter((o) => o.outcome === 'failed').map((o) => o.id);
  if (failed.length > 0) throw new CertificateRefreshError(failed);
  return outcomes;
}
