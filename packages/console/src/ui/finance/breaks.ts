// The break queue: filters (provider, account, class, state, age, amount, business date) kept in the address, a
// table you can use by keyboard alone (Tab to the table, ↑/↓ between rows, Enter opens), keyset pages.
import { useEffect, useState } from 'preact/hooks';
import { account as accountName, Field, money, onRowKey, Status, useLoad } from '../components.ts';
import { html } from '../html.ts';
import type { PageProps } from '../pages.ts';
import { navigate } from '../route.ts';

export interface BreakRow {
  id: string;
  provider: string;
  account: string;
  class: string;
  kind: string;
  providerPaymentId: string | null;
  providerRefundId: string | null;
  payoutId: string | null;
  merchantOrderNo: string | null;
  providerCurrency: string | null;
  providerAmountMinor: string | null;
  ledgerCurrency: string | null;
  ledgerAmountMinor: string | null;
  state: string;
  assignee: string | null;
  firstSeenDate: string;
  lastSeenDate: string;
  ageDays: number;
}

const FILTERS = [
  'provider',
  'account',
  'class',
  'state',
  'minAgeDays',
  'minAmountMinor',
  'maxAmountMinor',
  'businessDate',
] as const;
const CLASSES = [
  'missing_in_ledger',
  'missing_at_provider',
  'amount_mismatch',
  'status_mismatch',
  'currency_mismatch',
  'duplicate',
  'payout_mismatch',
];

export function BreaksPage({ api, location }: PageProps) {
  const q = location.query;
  const values = Object.fromEntries(FILTERS.map((name) => [name, q.get(name) ?? ''])) as Record<
    (typeof FILTERS)[number],
    string
  >;
  const after = q.get('after') ?? '';
  const key = q.toString();
  const page = useLoad(
    () =>
      api.get<{ breaks: BreakRow[]; nextCursor: string | null }>('/breaks', { ...values, after, limit: 50 }),
    [key],
  );
  // The form's own values until Apply (the address holds the applied ones).
  const [draft, setDraft] = useState(values);
  useEffect(() => setDraft(values), [key]);
  const bind = (name: (typeof FILTERS)[number]) => ({
    name,
    value: draft[name],
    onInput: (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value }),
    onChange: (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value }),
  });

  const apply = (event: Event) => {
    event.preventDefault();
    navigate('/breaks', draft);
  };
  const open = (row: BreakRow) => navigate(`/breaks/${row.id}`);
  return html`<h1>Break queue</h1>
    <form class="filters" onSubmit=${apply} aria-label="Break filters">
      <${Field} label="Provider" id="bf-provider">
        <select id="bf-provider" ...${bind('provider')}>
          <option value="">All</option><option value="wechatpay">WeChat Pay</option><option value="stripe">Stripe</option>
        </select>
      <//>
      <${Field} label="Account" id="bf-account"><input id="bf-account" ...${bind('account')} placeholder="mchid, acct_…, platform" /><//>
      <${Field} label="Class" id="bf-class">
        <select id="bf-class" ...${bind('class')}>
          <option value="">All</option>${CLASSES.map((c) => html`<option value=${c}>${c}</option>`)}
        </select>
      <//>
      <${Field} label="State" id="bf-state">
        <select id="bf-state" ...${bind('state')}>
          <option value="">All</option><option value="open">open</option><option value="healed">healed</option>
          <option value="resolved">resolved</option><option value="written_off">written off</option>
        </select>
      <//>
      <${Field} label="Older than (days)" id="bf-age"><input id="bf-age" inputmode="numeric" pattern="[0-9]*" ...${bind('minAgeDays')} /><//>
      <${Field} label="Amount from (minor units)" id="bf-min"><input id="bf-min" inputmode="numeric" pattern="[0-9]*" ...${bind('minAmountMinor')} /><//>
      <${Field} label="Amount to (minor units)" id="bf-max"><input id="bf-max" inputmode="numeric" pattern="[0-9]*" ...${bind('maxAmountMinor')} /><//>
      <${Field} label="Found on business date" id="bf-date"><input id="bf-date" type="date" ...${bind('businessDate')} /><//>
      <div class="field"><button type="submit">Apply filters</button></div>
    </form>
    <${Status} loaded=${page} />
    ${
      page.data
        ? html`<p class="muted" aria-live="polite">${page.data.breaks.length} break${page.data.breaks.length === 1 ? '' : 's'} on this page.
          Use Tab to reach the table, ↑ and ↓ to move, Enter to open.</p>
        <div class="table-wrap">
          <table aria-label="Breaks">
            <thead><tr>
              <th scope="col">Break</th><th scope="col">Class</th><th scope="col">State</th>
              <th scope="col" class="hide-narrow">Provider</th><th scope="col">Order / object</th>
              <th scope="col" class="num">Provider amount</th><th scope="col" class="num hide-narrow">Ledger amount</th>
              <th scope="col" class="num">Age (days)</th><th scope="col" class="hide-narrow">Assignee</th>
            </tr></thead>
            <tbody>
              ${page.data.breaks.map(
                (row) => html`<tr tabindex="0" aria-label=${`Break ${row.id}, ${row.class}, ${row.state}`}
                    onClick=${() => open(row)} onKeyDown=${(e: KeyboardEvent) => onRowKey(e, () => open(row))}>
                  <td><a href=${`#/breaks/${row.id}`} tabindex="-1">#${row.id}</a></td>
                  <td>${row.class}</td>
                  <td><span class=${`badge ${row.state}`}>${row.state}</span></td>
                  <td class="hide-narrow">${row.provider} ${accountName(row.account)}</td>
                  <td>${row.merchantOrderNo ?? row.providerPaymentId ?? row.providerRefundId ?? row.payoutId ?? '—'}</td>
                  <td class="num">${money(row.providerAmountMinor, row.providerCurrency)}</td>
                  <td class="num hide-narrow">${money(row.ledgerAmountMinor, row.ledgerCurrency)}</td>
                  <td class="num">${row.ageDays}</td>
                  <td class="hide-narrow">${row.assignee ?? '—'}</td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>
        <div class="pager">
          ${after ? html`<a href=${`#/breaks?${new URLSearchParams(Object.entries(values).filter(([, v]) => v)).toString()}`}>First page</a>` : null}
          ${
            page.data.nextCursor
              ? html`<a href=${`#/breaks?${new URLSearchParams([...Object.entries(values).filter(([, v]) => v), ['after', page.data.nextCursor]]).toString()}`}>Next page</a>`
              : null
          }
        </div>`
        : null
    }`;
}
