// Overview: per provider and account for one business date — the run's state, matched count, breaks by class
// (open of found), gross / fees / net per currency; and the last 30 days as charts (volume, amount, breaks by class).

import { color, StackedBars } from '../charts.ts';
import { account as accountName, Field, money, Status, useLoad } from '../components.ts';
import { html } from '../html.ts';
import type { PageProps } from '../pages.ts';
import { navigate } from '../route.ts';

interface MoneyRow {
  currency: string;
  gross: string;
  fees: string;
  net: string;
  payments: number;
  refunds: number;
}

interface OverviewRow {
  provider: string;
  account: string;
  businessDate: string;
  run: {
    runId: string;
    status: string;
    attempt: number;
    finishedAt: string | null;
    errorCode: string | null;
  } | null;
  matched: number;
  breaksByClass: Record<string, number>;
  openByClass: Record<string, number>;
  money: MoneyRow[];
}

interface SeriesDay {
  businessDate: string;
  provider: string;
  account: string;
  volume: number;
  amountByCurrency: Record<string, string>;
  breaksByClass: Record<string, number>;
}

export function OverviewPage({ api, location }: PageProps) {
  const q = location.query;
  const date = q.get('date') ?? '';
  const provider = q.get('provider') ?? '';
  const acct = q.get('account') ?? '';
  const overview = useLoad(
    () =>
      api.get<{ businessDate: string; rows: OverviewRow[] }>('/overview', { date, provider, account: acct }),
    [date, provider, acct],
  );
  const series = useLoad(
    () => api.get<{ series: SeriesDay[] }>('/series', { days: 30, provider, account: acct, to: date }),
    [date, provider, acct],
  );
  const shown = overview.data?.businessDate ?? date;
  const set = (name: string, value: string) =>
    navigate('/overview', { date, provider, account: acct, [name]: value });

  return html`<h1>Reconciliation overview</h1>
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()} aria-label="Overview filters">
      <${Field} label="Business date" id="ov-date">
        <input id="ov-date" type="date" value=${shown} onChange=${(e: Event) => set('date', (e.target as HTMLInputElement).value)} />
      <//>
      <${Field} label="Provider" id="ov-provider">
        <select id="ov-provider" value=${provider} onChange=${(e: Event) => set('provider', (e.target as HTMLSelectElement).value)}>
          <option value="">All</option><option value="wechatpay">WeChat Pay</option><option value="stripe">Stripe</option>
        </select>
      <//>
      <${Field} label="Account" id="ov-account">
        <input id="ov-account" value=${acct} placeholder="mchid, acct_…, platform"
          onChange=${(e: Event) => set('account', (e.target as HTMLInputElement).value)} />
      <//>
    </form>
    <${Status} loaded=${overview} />
    ${overview.data && overview.data.rows.length === 0 ? html`<p>No reconciliation for ${shown}.</p>` : null}
    <div class="grid">
      ${(overview.data?.rows ?? []).map((row) => OverviewCard(row))}
    </div>
    <h2>Last 30 days</h2>
    <${Status} loaded=${series} />
    ${series.data ? Charts(series.data.series) : null}`;
}

function OverviewCard(row: OverviewRow) {
  const classes = Object.keys(row.breaksByClass).sort();
  const open = Object.values(row.openByClass).reduce((a, b) => a + b, 0);
  const who = `${row.provider} ${accountName(row.account)}`;
  return html`<section class="card" aria-label=${who}>
    <h2>${row.provider === 'wechatpay' ? 'WeChat Pay' : 'Stripe'} · ${accountName(row.account)} · ${row.businessDate}</h2>
    <dl class="facts">
      <dt>Run</dt>
      <dd>${row.run ? html`<span class=${`badge ${row.run.status}`}>${row.run.status}</span> attempt ${row.run.attempt}${row.run.errorCode ? ` (${row.run.errorCode})` : ''}` : 'no run'}</dd>
      <dt>Matched</dt><dd>${row.matched}</dd>
      <dt>Breaks</dt>
      <dd>${
        classes.length === 0
          ? 'none'
          : html`<ul class="plain">${classes.map((c) => html`<li>${c}: ${row.openByClass[c] ?? 0} open of ${row.breaksByClass[c]}</li>`)}</ul>`
      }
      </dd>
      ${row.money.map(
        (m) => html`<dt>${m.currency}</dt>
          <dd>gross ${m.gross} · fees ${m.fees} · net ${m.net}<br /><span class="muted">${m.payments} payments, ${m.refunds} refunds</span></dd>`,
      )}
    </dl>
    ${
      open > 0
        ? html`<p><a href=${`#/breaks?provider=${row.provider}&account=${encodeURIComponent(accountName(row.account))}&state=open&businessDate=${row.businessDate}`}>
          See ${open} open break${open === 1 ? '' : 's'}</a></p>`
        : null
    }
  </section>`;
}

function Charts(days: SeriesDay[]) {
  const labels = [...new Set(days.map((d) => d.businessDate))].sort();
  const keys = [...new Set(days.map((d) => `${d.provider} ${accountName(d.account)}`))].sort();
  const pick = (key: string, date: string) =>
    days.filter((d) => `${d.provider} ${accountName(d.account)}` === key && d.businessDate === date);
  const volume = keys.map((key, i) => ({
    name: key,
    color: color(i),
    values: labels.map((date) => pick(key, date).reduce((sum, d) => sum + d.volume, 0)),
  }));
  const currencies = [...new Set(days.flatMap((d) => Object.keys(d.amountByCurrency)))].sort();
  const amounts = currencies.map((currency) => ({
    currency,
    series: keys.map((key, i) => ({
      name: key,
      color: color(i),
      values: labels.map((date) =>
        pick(key, date).reduce((sum, d) => sum + Number(d.amountByCurrency[currency] ?? 0), 0),
      ),
    })),
  }));
  const classes = [...new Set(days.flatMap((d) => Object.keys(d.breaksByClass)))].sort();
  const breaks = classes.map((cls, i) => ({
    name: cls,
    color: color(i + 1),
    values: labels.map((date) =>
      days.filter((d) => d.businessDate === date).reduce((sum, d) => sum + (d.breaksByClass[cls] ?? 0), 0),
    ),
  }));
  return html`<div class="grid">
    <${StackedBars} title="Daily volume (payments and refunds)" labels=${labels} series=${volume} />
    ${amounts.map(
      (
        a,
      ) => html`<${StackedBars} title=${`Daily amount, ${a.currency} (gross)`} labels=${labels} series=${a.series}
        format=${(n: number) => money(String(Math.round(n)), a.currency)} />`,
    )}
    <${StackedBars} title="Breaks by class" labels=${labels} series=${breaks} />
  </div>`;
}
