// A Stripe report CSV finance already has (`recon run --file`, downloaded from the Dashboard or an earlier report
// run): balance_change_from_activity.itemized, payouts.itemized or payout_reconciliation.itemized, plain or gzip, through the same parser and
// staging as the scheduled run's downloads; the evidence says the source was a file, with its SHA-256.
import { ConfigError } from '../../errors.ts';
import { type LocalFile, localFileEvidence } from '../run/file-input.ts';
import type { ReconLine, ReconSource, SourceFile } from '../run/types.ts';
import {
  parseBalanceChangeReport,
  parsePayoutReconciliationReport,
  parsePayoutsReport,
} from './report-parser.ts';
import { balanceChangeLine, payoutLine, settlementLine } from './report-staging.ts';

export interface StripeReportFileOptions {
  /** '' for the platform account, acct_… for a connected account. */
  account: string;
  file: LocalFile;
  orderMetadataKey: string;
}

/**
 * Which report a header names: payout_id + payout_status → payouts.itemized; automatic_payout_id first (Stripe's
 * order) or an automatic_payout_effective_at column → payout_reconciliation.itemized; balance_transaction_id +
 * reporting_category → balance change.
 */
export function stripeReportKind(
  firstLine: string,
  fileName: string,
): 'payouts' | 'payout_reconciliation' | 'balance_change' {
  const columns = firstLine.split(',').map((c) => c.replace(/^"|"$/g, '').trim());
  if (columns.includes('payout_id') && columns.includes('payout_status')) return 'payouts';
  if (
    columns.includes('automatic_payout_id') &&
    columns.includes('balance_transaction_id') &&
    (columns[0] === 'automatic_payout_id' ||
      columns.includes('automatic_payout_effective_at') ||
      columns.includes('automatic_payout_effective_at_utc'))
  )
    return 'payout_reconciliation';
  if (columns.includes('balance_transaction_id') && columns.includes('reporting_category'))
    return 'balance_change';
  throw new ConfigError(
    'RECON_FILE_KIND',
    `${fileName} is not a Stripe balance change (itemized), payouts (itemized) or payout reconciliation (itemized) report`,
  );
}

export function stripeFileSource(options: StripeReportFileOptions): ReconSource {
  const kind = stripeReportKind(options.file.firstLine, options.file.fileName);
  return {
    provider: 'stripe',
    account: options.account,
    // A payouts or payout reconciliation file alone says nothing about the day's payments and refunds.
    listsDayActivity: kind === 'balance_change',
    async *files() {
      yield reportFile(options);
    },
  };
}

function reportFile(options: StripeReportFileOptions): SourceFile {
  const { file } = options;
  const name = stripeReportKind(file.firstLine, file.fileName);
  let rows = 0;
  let summary: Record<string, string> = {};
  const totalsOf = (byCurrency: Record<string, { count: number; grossMinor: bigint }>) =>
    Object.fromEntries(
      Object.entries(byCurrency).flatMap(([currency, t]) => [
        [`${currency}.count`, String(t.count)],
        [`${currency}.grossMinor`, t.grossMinor.toString()],
      ]),
    );
  async function* lines(): AsyncGenerator<ReconLine> {
    if (name === 'payouts') {
      const parser = parsePayoutsReport(file.plaintext());
      for await (const row of parser) {
        rows += 1;
        yield payoutLine(row, name);
      }
      summary = totalsOf(parser.summary().totalsByCurrency);
    } else if (name === 'payout_reconciliation') {
      const parser = parsePayoutReconciliationReport(file.plaintext());
      for await (const row of parser) {
        rows += 1;
        yield settlementLine(row, name);
      }
      summary = totalsOf(parser.summary().totalsByCurrency);
    } else {
      const parser = parseBalanceChangeReport(file.plaintext());
      for await (const row of parser) {
        rows += 1;
        yield balanceChangeLine(row, { orderMetadataKey: options.orderMetadataKey, source: name });
      }
      summary = totalsOf(parser.summary().totalsByCurrency);
    }
  }
  return {
    name,
    lines: lines(),
    evidence: () => localFileEvidence(name, file, rows, summary),
    kept: async () => [],
    dispose: async () => {},
  };
}
