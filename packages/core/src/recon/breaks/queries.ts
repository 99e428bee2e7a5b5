// Read side of the break register for the console and the CLI: the break queue (filters, keyset paging, newest
// first), one break with both sides, its sightings and audit trail, the overview of a business date per provider
// and account (run state, matched, breaks by class, gross / fees / net) and a daily series for charts.
// Plain statements through the sql port; every amount is bigint minor units (fees at the provider's scale).
import type { Provider } from '../../ledger/changes.ts';
import type { Sql } from '../../ledger/db.ts';
import { minorToDecimal } from '../../money.ts';
import { BREAK_CODES, BreakError } from '../errors.ts';
import { providerCurrencyExponent } from '../run/report-amounts.ts';
import {
  BREAK_STATES,
  type BreakDetail,
  type BreakEvent,
  type BreakItemSnapshot,
  type BreakLedgerSide,
  type BreakListFilter,
  type BreakPage,
  type BreakSighting,
  type BreakState,
  type BreakSummary,
  type DayMoney,
  type OverviewFilter,
  type OverviewRow,
  type SeriesDay,
  type SeriesFilter,
} from './types.ts';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_PAGE = 500;

interface BreakRow {
  id: bigint;
  provider: Provider;
  account: string;
  class: string;
  kind: string;
  object_key: string;
  provider_payment_id: string | null;
  provider_refund_id: string | null;
  payout_id: string | null;
  merchant_order_no: string | null;
  merchant_refund_no: string | null;
  provider_currency: string | null;
  provider_amount_minor: bigint | null;
  ledger_currency: string | null;
  ledger_amount_minor: bigint | null;
  amount_minor: bigint | null;
  state: BreakState;
  assignee: string | null;
  first_seen_date: string;
  first_seen_run: string;
  last_seen_date: string;
  last_seen_run: string;
  age_days: number;
  closed_by_run: string | null;
  closed_at: Date | null;
  resolution: string | null;
  updated_at: Date;
  item: Record<string, unknown>;
}

/** The select list of a break with its age as of `$asOf` (closed breaks: as of the day they were closed). */
const BREAK_COLUMNS = (asOf: string) => `
  b.id, b.provider, b.account, b.class, b.kind, b.object_key, b.provider_payment_id, b.provider_refund_id, b.payout_id,
  b.merchant_order_no, b.merchant_refund_no, trim(b.provider_currency) as provider_currency, b.provider_amount_minor,
  trim(b.ledger_currency) as ledger_currency, b.ledger_amount_minor, b.amount_minor, b.state, b.assignee,
  to_char(b.first_seen_date, 'YYYY-MM-DD') as first_seen_date, b.first_seen_run,
  to_char(b.last_seen_date, 'YYYY-MM-DD') as last_seen_date, b.last_seen_run,
  ${ageSql(asOf)} as age_days,
  b.closed_by_run, b.closed_at, b.resolution, b.updated_at, b.item`;

function ageSql(asOf: string): string {
  return `greatest(0, (case when b.state = 'open' then ${asOf}::date
                            else coalesce((b.closed_at at time zone 'UTC')::date, (b.updated_at at time zone 'UTC')::date) end)
                      - b.first_seen_date)::int`;
}

function toSummary(r: BreakRow): BreakSummary {
  return {
    id: r.id,
    provider: r.provider,
    account: r.account,
    class: r.class,
    kind: r.kind,
    objectKey: r.object_key,
    providerPaymentId: r.provider_payment_id,
    providerRefundId: r.provider_refund_id,
    payoutId: r.payout_id,
    merchantOrderNo: r.merchant_order_no,
    merchantRefundNo: r.merchant_refund_no,
    providerCurrency: r.provider_currency,
    providerAmountMinor: r.provider_amount_minor,
    ledgerCurrency: r.ledger_currency,
    ledgerAmountMinor: r.ledger_amount_minor,
    amountMinor: r.amount_minor,
    state: r.state,
    assignee: r.assignee,
    firstSeenDate: r.first_seen_date,
    firstSeenRun: r.first_seen_run,
    lastSeenDate: r.last_seen_date,
    lastSeenRun: r.last_seen_run,
    ageDays: r.age_days,
    closedByRun: r.closed_by_run,
    closedAt: r.closed_at,
    resolution: r.resolution,
    updatedAt: r.updated_at,
  };
}

function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

function checkDate(name: string, value: string | undefined): void {
  if (value !== undefined && !DATE.test(value))
    throw new BreakError(BREAK_CODES.badFilter, `${name} must be a date YYYY-MM-DD, got "${value}"`);
}

/** Cursor of a page: the last row's first-seen date and id (the listing's order). */
function encodeCursor(row: BreakRow): string {
  return Buffer.from(`${row.first_seen_date}|${row.id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { date: string; id: bigint } {
  const [date, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!date || !DATE.test(date) || !id || !/^\d+$/.test(id))
    throw new BreakError(BREAK_CODES.badFilter, 'after is not a cursor this listing returned');
  return { date, id: BigInt(id) };
}

/** The break queue: newest first (first-seen date, then id, both descending), keyset-paged. */
export async function listBreaks(sql: Sql, filter: BreakListFilter): Promise<BreakPage> {
  const limit = Math.trunc(filter.limit);
  if (!(limit >= 1 && limit <= MAX_PAGE))
    throw new BreakError(
      BREAK_CODES.badFilter,
      `limit must be between 1 and ${MAX_PAGE}, got ${filter.limit}`,
    );
  if (filter.state !== undefined && !BREAK_STATES.includes(filter.state))
    throw new BreakError(BREAK_CODES.badFilter, `state must be one of ${BREAK_STATES.join(', ')}`);
  checkDate('businessDate', filter.businessDate);
  checkDate('asOf', filter.asOf);
  const asOf = filter.asOf ?? todayUtc();
  const after = filter.after ? decodeCursor(filter.after) : null;
  const account = filter.account === 'platform' ? '' : filter.account;
  const params = [
    filter.provider ?? null,
    account ?? null,
    filter.class ?? null,
    filter.state ?? null,
    filter.minAgeDays ?? null,
    filter.minAmountMinor?.toString() ?? null,
    filter.maxAmountMinor?.toString() ?? null,
    filter.businessDate ?? null,
    after?.date ?? null,
    after?.id.toString() ?? null,
    limit + 1,
    asOf,
  ];
  const rows = await sql.unsafe<BreakRow[]>(
    `select ${BREAK_COLUMNS('$12')}
       from recon_breaks b
      where ($1::text is null or b.provider = $1)
        and ($2::text is null or b.account = $2)
        and ($3::text is null or b.class = $3)
        and ($4::text is null or b.state = $4)
        and ($5::int is null or ${ageSql('$12')} >= $5::int)
        and ($6::bigint is null or b.amount_minor >= $6::bigint)
        and ($7::bigint is null or b.amount_minor <= $7::bigint)
        and ($8::date is null or exists (select 1 from recon_break_sightings s
                                           where s.break_id = b.id and s.business_date = $8::date))
        and ($9::date is null or (b.first_seen_date, b.id) < ($9::date, $10::bigint))
      order by b.first_seen_date desc, b.id desc
      limit $11`,
    params,
  );
  const page = rows.slice(0, limit);
  return {
    breaks: page.map(toSummary),
    nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!) : null,
  };
}

function bigOrNull(value: unknown): bigint | null {
  return value === null || value === undefined ? null : BigInt(value as string);
}

function toSnapshot(item: Record<string, unknown>): BreakItemSnapshot {
  const text = (key: string) => (item[key] === null || item[key] === undefined ? null : String(item[key]));
  return {
    class: String(item.class),
    healedFrom: text('healedFrom'),
    kind: String(item.kind),
    source: text('source'),
    lineNo: item.lineNo === null || item.lineNo === undefined ? null : Number(item.lineNo),
    providerPaymentId: text('providerPaymentId'),
    providerRefundId: text('providerRefundId'),
    payoutId: text('payoutId'),
    merchantOrderNo: text('merchantOrderNo'),
    merchantRefundNo: text('merchantRefundNo'),
    billAmountMinor: bigOrNull(item.billAmountMinor),
    billCurrency: text('billCurrency'),
    billStatus: text('billStatus'),
    billProviderStatus: text('billProviderStatus'),
    ledgerAmountMinor: bigOrNull(item.ledgerAmountMinor),
    ledgerCurrency: text('ledgerCurrency'),
    ledgerStatus: text('ledgerStatus'),
    feeScaled: bigOrNull(item.feeScaled),
    feeScale: item.feeScale === null || item.feeScale === undefined ? null : Number(item.feeScale),
    occurredAt: text('occurredAt'),
    detail: text('detail'),
    healNote: text('healNote'),
  };
}

const RUN_ACTIONS = new Set(['detected', 'redetected', 'healed', 'closed', 'reopened']);

/** Events of a break, oldest first. */
export async function breakEvents(sql: Sql, breakId: bigint): Promise<BreakEvent[]> {
  const rows = await sql<
    {
      id: bigint;
      at: Date;
      actor: string;
      action: BreakEvent['action'];
      note: string | null;
      from_state: BreakState | null;
      to_state: BreakState | null;
      run_id: string | null;
    }[]
  >`select id, at, actor, action, note, from_state, to_state, run_id
      from recon_break_events where break_id = ${breakId.toString()} order by id`;
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    note: r.note,
    fromState: r.from_state,
    toState: r.to_state,
    runId: r.run_id,
  }));
}

async function ledgerSide(sql: Sql, b: BreakRow): Promise<BreakLedgerSide | null> {
  if (b.kind === 'payment' && b.provider_payment_id) {
    const [row] = await sql<
      {
        status: string;
        amount_minor: bigint;
        currency: string;
        merchant_order_no: string | null;
        updated_at: Date;
      }[]
    >`select status, amount_minor, trim(currency) as currency, merchant_order_no, updated_at from payments
       where provider = ${b.provider} and provider_payment_id = ${b.provider_payment_id}`;
    return row
      ? {
          table: 'payments',
          id: b.provider_payment_id,
          status: row.status,
          amountMinor: row.amount_minor,
          currency: row.currency,
          merchantOrderNo: row.merchant_order_no,
          updatedAt: row.updated_at,
        }
      : null;
  }
  if (b.kind === 'refund' && b.provider_refund_id) {
    const [row] = await sql<
      {
        status: string;
        amount_minor: bigint;
        currency: string;
        merchant_order_no: string | null;
        updated_at: Date;
      }[]
    >`select status, amount_minor, trim(currency) as currency, merchant_order_no, updated_at from refunds
       where provider = ${b.provider} and provider_refund_id = ${b.provider_refund_id}`;
    return row
      ? {
          table: 'refunds',
          id: b.provider_refund_id,
          status: row.status,
          amountMinor: row.amount_minor,
          currency: row.currency,
          merchantOrderNo: row.merchant_order_no,
          updatedAt: row.updated_at,
        }
      : null;
  }
  if (b.kind === 'payout' && b.payout_id && b.provider === 'stripe') {
    const [row] = await sql<{ status: string | null; amount: string | null; currency: string | null }[]>`
      select status, data->>'amount' as amount, upper(data->>'currency') as currency from stripe.payouts
       where id = ${b.payout_id}`;
    return row
      ? {
          table: 'stripe.payouts',
          id: b.payout_id,
          status: row.status,
          amountMinor: row.amount === null ? null : BigInt(row.amount),
          currency: row.currency,
          merchantOrderNo: null,
          updatedAt: null,
        }
      : null;
  }
  return null;
}

/** One break: both sides, where runs saw it, its heal history and its audit trail; undefined when unknown. */
export async function getBreak(
  sql: Sql,
  breakId: bigint,
  options: { asOf?: string } = {},
): Promise<BreakDetail | undefined> {
  checkDate('asOf', options.asOf);
  const [row] = await sql.unsafe<BreakRow[]>(
    `select ${BREAK_COLUMNS('$2')} from recon_breaks b where b.id = $1`,
    [breakId.toString(), options.asOf ?? todayUtc()],
  );
  if (!row) return undefined;
  const sightings = await sql<
    {
      business_date: string;
      run_id: string;
      seen_at: Date;
      healed_in_run: boolean;
      heal_note: string | null;
      gone_run: string | null;
      gone_at: Date | null;
    }[]
  >`select to_char(business_date, 'YYYY-MM-DD') as business_date, run_id, seen_at, healed_in_run, heal_note, gone_run, gone_at
      from recon_break_sightings where break_id = ${breakId.toString()} order by business_date`;
  const events = await breakEvents(sql, breakId);
  return {
    ...toSummary(row),
    item: toSnapshot(row.item),
    ledger: await ledgerSide(sql, row),
    sightings: sightings.map(
      (s): BreakSighting => ({
        businessDate: s.business_date,
        runId: s.run_id,
        seenAt: s.seen_at,
        healedInRun: s.healed_in_run,
        healNote: s.heal_note,
        goneRun: s.gone_run,
        goneAt: s.gone_at,
      }),
    ),
    healHistory: events.filter((e) => RUN_ACTIONS.has(e.action)),
    events,
  };
}

export interface DayTotalsRow {
  provider: Provider;
  account: string;
  business_date: string;
  currency: string;
  payments: number;
  refunds: number;
  gross_minor: bigint;
  refunds_minor: bigint;
  fee_scaled: bigint;
  fee_scale: number;
  other_minor: bigint;
}

/** Gross, fees and net of one recon_day_totals row, exactly. */
export function dayMoney(provider: Provider, row: DayTotalsRow): DayMoney {
  const exponent = providerCurrencyExponent(provider, row.currency);
  const grossMinor = row.gross_minor - row.refunds_minor + row.other_minor;
  const netScale = Math.max(exponent, row.fee_scale);
  const netScaled =
    grossMinor * 10n ** BigInt(netScale - exponent) -
    row.fee_scaled * 10n ** BigInt(netScale - row.fee_scale);
  return {
    currency: row.currency,
    payments: row.payments,
    refunds: row.refunds,
    paymentsMinor: row.gross_minor,
    refundsMinor: row.refunds_minor,
    otherMinor: row.other_minor,
    grossMinor,
    feesScaled: row.fee_scaled,
    feeScale: row.fee_scale,
    netScaled,
    netScale,
    gross: minorToDecimal(grossMinor, exponent),
    fees: minorToDecimal(row.fee_scaled, row.fee_scale),
    net: minorToDecimal(netScaled, netScale),
  };
}

const DAY_TOTALS_COLUMNS = `provider, account, to_char(business_date, 'YYYY-MM-DD') as business_date, trim(currency) as currency,
  payments, refunds, gross_minor, refunds_minor, fee_scaled, fee_scale, other_minor`;

/** Per (provider, account) of a business date: run state, matched count, breaks by class, gross / fees / net. */
export async function reconOverview(sql: Sql, filter: OverviewFilter): Promise<OverviewRow[]> {
  checkDate('businessDate', filter.businessDate);
  const provider = filter.provider ?? null;
  const account = (filter.account === 'platform' ? '' : filter.account) ?? null;
  const date = filter.businessDate;
  const runs = await sql<
    {
      provider: Provider;
      account: string;
      run_id: string;
      status: 'running' | 'succeeded' | 'failed';
      attempt: number;
      started_at: Date;
      finished_at: Date | null;
      error_code: string | null;
      counts: Record<string, number>;
      published_run_id: string | null;
      published_counts: Record<string, number> | null;
    }[]
  >`select r.provider, r.account, r.run_id, r.status, r.attempt, r.started_at, r.finished_at, r.error_code, r.counts,
           p.run_id as published_run_id, p.counts as published_counts
      from recon_runs r left join recon_reports p using (provider, account, business_date)
     where r.business_date = ${date} and (${provider}::text is null or r.provider = ${provider})
       and (${account}::text is null or r.account = ${account})`;
  const breaks = await sql<
    { provider: Provider; account: string; class: string; state: BreakState; n: number }[]
  >`
    select b.provider, b.account, b.class, b.state, count(*)::int as n
      from recon_break_sightings s join recon_breaks b on b.id = s.break_id
     where s.business_date = ${date} and (${provider}::text is null or s.provider = ${provider})
       and (${account}::text is null or s.account = ${account})
     group by 1, 2, 3, 4`;
  const money = await sql.unsafe<DayTotalsRow[]>(
    `select ${DAY_TOTALS_COLUMNS} from recon_day_totals
      where business_date = $1 and ($2::text is null or provider = $2) and ($3::text is null or account = $3)
      order by currency`,
    [date, provider, account],
  );
  const rows = new Map<string, OverviewRow>();
  const rowOf = (p: Provider, a: string) => {
    const key = `${p}|${a}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        provider: p,
        account: a,
        businessDate: date,
        run: null,
        matched: 0,
        breaksByClass: {},
        openByClass: {},
        money: [],
      };
      rows.set(key, row);
    }
    return row;
  };
  for (const r of runs) {
    const row = rowOf(r.provider, r.account);
    row.run = {
      runId: r.run_id,
      status: r.status,
      attempt: r.attempt,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      errorCode: r.error_code,
      publishedRunId: r.published_run_id,
    };
    // A re-run in progress (or failed) has no counts yet: the published report's stand.
    row.matched = (r.status === 'succeeded' ? r.counts : (r.published_counts ?? r.counts)).matched ?? 0;
  }
  for (const b of breaks) {
    const row = rowOf(b.provider, b.account);
    row.breaksByClass[b.class] = (row.breaksByClass[b.class] ?? 0) + b.n;
    if (b.state === 'open') row.openByClass[b.class] = (row.openByClass[b.class] ?? 0) + b.n;
  }
  for (const m of money) rowOf(m.provider, m.account).money.push(dayMoney(m.provider, m));
  return [...rows.values()].sort((x, y) =>
    x.provider === y.provider ? x.account.localeCompare(y.account) : x.provider.localeCompare(y.provider),
  );
}

/** Per day (oldest first) and provider/account: volume, amount per currency, breaks by class. */
export async function reconSeries(sql: Sql, filter: SeriesFilter): Promise<SeriesDay[]> {
  const days = Math.trunc(filter.days);
  if (!(days >= 1 && days <= 366))
    throw new BreakError(BREAK_CODES.badFilter, `days must be between 1 and 366, got ${filter.days}`);
  checkDate('to', filter.to);
  const to = filter.to ?? todayUtc();
  const provider = filter.provider ?? null;
  const account = (filter.account === 'platform' ? '' : filter.account) ?? null;
  const from = `(${'$1'}::date - ($2::int - 1))`;
  const totals = await sql.unsafe<DayTotalsRow[]>(
    `select ${DAY_TOTALS_COLUMNS} from recon_day_totals
      where business_date between ${from} and $1::date and ($3::text is null or provider = $3) and ($4::text is null or account = $4)`,
    [to, days, provider, account],
  );
  const breaks = await sql.unsafe<
    { provider: Provider; account: string; business_date: string; class: string; n: number }[]
  >(
    `select b.provider, b.account, to_char(s.business_date, 'YYYY-MM-DD') as business_date, b.class, count(*)::int as n
       from recon_break_sightings s join recon_breaks b on b.id = s.break_id
      where s.business_date between ${from} and $1::date and ($3::text is null or s.provider = $3)
        and ($4::text is null or s.account = $4)
      group by 1, 2, 3, 4`,
    [to, days, provider, account],
  );
  const out = new Map<string, SeriesDay>();
  const dayOf = (p: Provider, a: string, d: string) => {
    const key = `${d}|${p}|${a}`;
    let day = out.get(key);
    if (!day) {
      day = { businessDate: d, provider: p, account: a, volume: 0, amountByCurrency: {}, breaksByClass: {} };
      out.set(key, day);
    }
    return day;
  };
  for (const t of totals) {
    const day = dayOf(t.provider, t.account, t.business_date);
    day.volume += t.payments + t.refunds;
    day.amountByCurrency[t.currency] = t.gross_minor - t.refunds_minor + t.other_minor;
  }
  for (const b of breaks) dayOf(b.provider, b.account, b.business_date).breaksByClass[b.class] = b.n;
  return [...out.values()].sort((x, y) =>
    x.businessDate !== y.businessDate
      ? x.businessDate.localeCompare(y.businessDate)
      : x.provider !== y.provider
        ? x.provider.localeCompare(y.provider)
        : x.account.localeCompare(y.account),
  );
}
