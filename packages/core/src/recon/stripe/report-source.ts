// The Stripe source of a run: creates the business day's report runs through the client's Reports API
// (StripeClient satisfies it; tests pass in-memory fakes), polls them, downloads and stream-parses the CSVs and
// yields staged lines. Every download is copied to a temporary file on the way, so a report that fails
// verification can be kept as evidence.
import { PayhooksError } from '../../errors.ts';
import type { ReportAvailability } from '../../providers/stripe/client.ts';
import { RECON_RUN_CODES, ReconNotReadyError } from '../errors.ts';
import type { Download } from '../run/source-files.ts';
import { TempCopy } from '../run/temp-copy.ts';
import type { ReconLine, ReconSource, RunWindow, SourceFile } from '../run/types.ts';
import { STRIPE_REPORT_TYPES } from './report-format.ts';
import {
  parseBalanceChangeReport,
  parsePayoutReconciliationReport,
  parsePayoutsReport,
} from './report-parser.ts';
import { balanceChangeLine, payoutLine, settlementLine } from './report-staging.ts';

interface ReportRunLike {
  id: string;
  status: string;
  result?: { id: string; url?: string | null } | null;
}

/** The Reports API calls of the Stripe client (StripeClient satisfies it). */
export interface StripeReportApi {
  reportTypeAvailability?(reportType: string): Promise<ReportAvailability>;
  createReportRun(
    reportType: string,
    parameters: {
      intervalStart: Date;
      intervalEnd: Date;
      connectedAccount?: string;
      columns?: readonly string[];
    },
  ): Promise<ReportRunLike>;
  waitForReportRun(id: string, options?: { sleep?: (ms: number) => Promise<void> }): Promise<ReportRunLike>;
  downloadFile(fileUrlOrId: string): Promise<Download>;
}

export interface StripeSourceOptions {
  /**
   * The ledger account: '' for the platform account, acct_… for a connected account (report per connected account),
   * or an independent account's configured id (its own report, created with its own key).
   */
  account: string;
  window: RunWindow;
  orderMetadataKey: string;
  /** Also fetch payouts.itemized.3 (default true). */
  payouts?: boolean;
  /**
   * Also fetch payout_reconciliation.itemized.5 (default true; connected accounts: its connected_account_ twin):
   * every transaction each of the day's payouts settles. Stripe offers it only on automatic payout schedules.
   */
  payoutReconciliation?: boolean;
  /** Poll pause; tests inject an immediate one. */
  sleep?: (ms: number) => Promise<void>;
  tempDir?: string;
}

export function balanceChangeColumns(orderMetadataKey: string): string[] {
  return [
    'balance_transaction_id',
    'created_utc',
    'available_on_utc',
    'currency',
    'gross',
    'fee',
    'net',
    'reporting_category',
    'source_id',
    'description',
    'automatic_payout_id',
    'customer_id',
    'charge_id',
    'payment_intent_id',
    `payment_metadata[${orderMetadataKey}]`,
  ];
}

export const PAYOUT_REPORT_COLUMNS = [
  'payout_id',
  'effective_at_utc',
  'currency',
  'gross',
  'fee',
  'net',
  'reporting_category',
  'description',
  'payout_expected_arrival_date',
  'payout_status',
  'payout_type',
  'balance_transaction_id',
] as const;

export const PAYOUT_RECONCILIATION_REPORT_COLUMNS = [
  'automatic_payout_id',
  'automatic_payout_effective_at_utc',
  'balance_transaction_id',
  'created_utc',
  'available_on_utc',
  'currency',
  'gross',
  'fee',
  'net',
  'reporting_category',
  'source_id',
  'description',
  'customer_id',
  'charge_id',
  'payment_intent_id',
] as const;

/** The payout reconciliation report type of an account: Connect accounts have their own. */
export function payoutReconciliationReportType(account: string): string {
  return account.startsWith('acct_')
    ? STRIPE_REPORT_TYPES.connectedAccountPayoutReconciliation
    : STRIPE_REPORT_TYPES.payoutReconciliation;
}

async function stripeReportFile(
  api: StripeReportApi,
  options: StripeSourceOptions,
  reportType: string,
  name: string,
  columns: readonly string[],
): Promise<SourceFile> {
  if (api.reportTypeAvailability) {
    const availability = await api.reportTypeAvailability(reportType);
    if (availability.dataAvailableEnd.getTime() < options.window.end.getTime()) {
      throw new ReconNotReadyError(
        RECON_RUN_CODES.notReady,
        `Stripe ${reportType} data is available until ${availability.dataAvailableEnd.toISOString()}, the business day ends ${options.window.end.toISOString()}: try later`,
      );
    }
  }
  const created = await api.createReportRun(reportType, {
    intervalStart: options.window.start,
    intervalEnd: options.window.end,
    ...(options.account.startsWith('acct_') ? { connectedAccount: options.account } : {}),
    columns,
  });
  const run = await api.waitForReportRun(created.id, options.sleep ? { sleep: options.sleep } : {});
  const file = run.result?.url ?? run.result?.id;
  if (!file)
    throw new PayhooksError(
      RECON_RUN_CODES.reportNoFile,
      `Stripe report run ${run.id} succeeded without a file`,
    );
  const copy = new TempCopy(`${name}.csv`, options.tempDir);
  const body = copy.tee(await api.downloadFile(file));
  let rows = 0;
  let summary: Record<string, unknown> = {};
  async function* lines(): AsyncGenerator<ReconLine> {
    if (reportType === STRIPE_REPORT_TYPES.payouts) {
      const parser = parsePayoutsReport(body);
      for await (const row of parser) {
        rows += 1;
        yield payoutLine(row, name);
      }
      summary = totalsOf(parser.summary().totalsByCurrency);
    } else if (reportType === payoutReconciliationReportType(options.account)) {
      const parser = parsePayoutReconciliationReport(body);
      for await (const row of parser) {
        rows += 1;
        yield settlementLine(row, name);
      }
      summary = totalsOf(parser.summary().totalsByCurrency);
    } else {
      const parser = parseBalanceChangeReport(body);
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
    evidence: () => ({
      name,
      empty: rows === 0,
      expectedSha1: null,
      sha1Downloaded: copy.digests?.sha1 ?? null,
      sha1Plaintext: copy.digests?.sha1 ?? null,
      sha256Downloaded: copy.digests?.sha256 ?? null,
      bytes: copy.bytes,
      rows,
      totals: summary as Record<string, string>,
      providerRef: run.id,
    }),
    kept: async () => {
      const bytes = await copy.read();
      return bytes ? [{ name: `${name}.csv`, body: bytes }] : [];
    },
    dispose: () => copy.dispose(),
  };
}

function totalsOf(
  byCurrency: Record<string, { count: number; grossMinor: bigint; feeMinor: bigint; netMinor: bigint }>,
) {
  const out: Record<string, string> = {};
  for (const [currency, t] of Object.entries(byCurrency)) {
    out[`${currency}.count`] = String(t.count);
    out[`${currency}.grossMinor`] = t.grossMinor.toString();
    out[`${currency}.feeMinor`] = t.feeMinor.toString();
    out[`${currency}.netMinor`] = t.netMinor.toString();
  }
  return out;
}

/**
 * A Stripe account's UTC day: balance_change_from_activity.itemized.3 (create the run, poll with backoff, download,
 * stream-parse), payouts.itemized.3 and payout_reconciliation.itemized.5, so each bank deposit ties to its payout
 * and the payout to every transaction it settles.
 */
export function stripeSource(api: StripeReportApi, options: StripeSourceOptions): ReconSource {
  return {
    provider: 'stripe',
    account: options.account,
    async *files() {
      yield await stripeReportFile(
        api,
        options,
        STRIPE_REPORT_TYPES.balanceChange,
        'balance_change',
        balanceChangeColumns(options.orderMetadataKey),
      );
      if (options.payouts !== false) {
        yield await stripeReportFile(
          api,
          options,
          STRIPE_REPORT_TYPES.payouts,
          'payouts',
          PAYOUT_REPORT_COLUMNS,
        );
      }
      if (options.payoutReconciliation !== false) {
        yield await stripeReportFile(
          api,
          options,
          payoutReconciliationReportType(options.account),
          'payout_reconciliation',
          PAYOUT_RECONCILIATION_REPORT_COLUMNS,
        );
      }
    },
  };
}
