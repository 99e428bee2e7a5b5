// Lag from provider event time to ledger commit, per hour of commit and per provider and account: p50 and p95
// over the inbox (applied_at − occurred_at), read through the applied_at index (migration 0017-consoleops).
// Events backfilled or replayed long after they happened show as large lags: that is what happened to them.
import type { Sql } from '@payhooks/core/ledger';

export interface LagBucket {
  hour: string;
  provider: string;
  account: string;
  events: number;
  p50Ms: number;
  p95Ms: number;
}

export async function lagByHour(sql: Sql, since: Date): Promise<LagBucket[]> {
  const rows = await sql<
    { hour: Date; provider: string; account: string; events: bigint; p50: number; p95: number }[]
  >`
    select date_trunc('hour', applied_at) as hour, provider, account, count(*) as events,
      percentile_cont(0.5) within group (order by extract(epoch from applied_at - occurred_at)) * 1000 as p50,
      percentile_cont(0.95) within group (order by extract(epoch from applied_at - occurred_at)) * 1000 as p95
    from inbox_events
    where applied_at >= ${since}
    group by 1, 2, 3
    order by 1, 2, 3`;
  return rows.map((r) => ({
    hour: r.hour.toISOString(),
    provider: r.provider,
    account: r.account,
    events: Number(r.events),
    p50Ms: Math.round(Number(r.p50)),
    p95Ms: Math.round(Number(r.p95)),
  }));
}
