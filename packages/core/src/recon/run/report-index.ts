// The current reports from the database (recon_reports, written with each run's success): GET /reports filters
// by provider, account and date range in SQL instead of listing the bucket and reading every latest.json.
import type { Provider } from '../../ledger/changes.ts';
import type { Sql } from '../../ledger/db.ts';
import type { ReportFile, ReportPointer } from './report.ts';

export interface ReportFilter {
  provider?: Provider;
  /** WeChat mchid, acct_…, or '' / `platform` for the Stripe platform account. */
  account?: string;
  /** Inclusive YYYY-MM-DD bounds. */
  from?: string;
  to?: string;
}

interface IndexRow {
  provider: Provider;
  account: string;
  business_date: string;
  run_id: string;
  published_at: Date;
  unhealed_breaks: number;
  counts: Record<string, number>;
  files: Record<ReportFile, string>;
}

/** The current report of each provider/account/date that matches, in provider, account, date order. */
export async function listIndexedReports(sql: Sql, filter: ReportFilter = {}): Promise<ReportPointer[]> {
  const account = filter.account === 'platform' ? '' : filter.account;
  const rows = await sql<IndexRow[]>`
    select provider, account, to_char(business_date, 'YYYY-MM-DD') as business_date, run_id, published_at,
           unhealed_breaks, counts, files
      from recon_reports
     where (${filter.provider ?? null}::text is null or provider = ${filter.provider ?? null})
       and (${account ?? null}::text is null or account = ${account ?? null})
       and (${filter.from ?? null}::date is null or business_date >= ${filter.from ?? null}::date)
       and (${filter.to ?? null}::date is null or business_date <= ${filter.to ?? null}::date)
     order by provider, account, business_date`;
  return rows.map((r) => ({
    provider: r.provider,
    account: r.account,
    businessDate: r.business_date,
    runId: r.run_id,
    status: 'succeeded',
    publishedAt: r.published_at.toISOString(),
    unhealedBreaks: r.unhealed_breaks,
    counts: r.counts,
    files: r.files,
  }));
}
