// Event search: one box for a provider event id, a provider object id (payment intent, transaction id, charge,
// refund…) or a merchant order number, a provider, and a time range of the provider's event time (UTC). The search
// lives in the address (bookmarkable); the table is keyboard-usable like the break queue; older pages by keyset.
import { useEffect, useState } from 'preact/hooks';
import { account as accountName, duration, Field, onRowKey, Status, useLoad, when } from '../components.ts';
import { html } from '../html.ts';
import type { PageProps } from '../pages.ts';
import { navigate } from '../route.ts';

export interface EventSummary {
  provider: string;
  eventId: string;
  eventType: string;
  account: string;
  occurredAt: string;
  receivedAt: string;
  appliedAt: string;
  outcome: string;
  lagMs: number;
}

const FIELDS = ['q', 'provider', 'from', 'to'] as const;
type Fields = Record<(typeof FIELDS)[number], string>;

/** `datetime-local` values are read as UTC (the console shows every time in UTC). */
const utc = (local: string) => (local ? `${local.length === 16 ? `${local}:00` : local}Z` : undefined);

export const eventPath = (e: { provider: string; eventId: string }) =>
  `/ops/events/${e.provider}/${encodeURIComponent(e.eventId)}`;

export function EventsPage({ api, location }: PageProps) {
  const q = location.query;
  const values = Object.fromEntries(FIELDS.map((name) => [name, q.get(name) ?? ''])) as Fields;
  const cursor = q.get('cursor') ?? '';
  const key = q.toString();
  const page = useLoad(
    () =>
      api.get<{ events: EventSummary[]; nextCursor: string | null }>('/ops/events', {
        q: values.q.trim(),
        provider: values.provider,
        from: utc(values.from),
        to: utc(values.to),
        cursor,
        limit: 50,
      }),
    [key],
  );
  const [draft, setDraft] = useState(values);
  useEffect(() => setDraft(values), [key]);
  const bind = (name: (typeof FIELDS)[number]) => ({
    name,
    value: draft[name],
    onInput: (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value }),
    onChange: (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value }),
  });
  const search = (event: Event) => {
    event.preventDefault();
    navigate('/ops/events', draft);
  };
  const applied = Object.entries(values).filter(([, v]) => v);

  return html`<h1>Events</h1>
    <form class="filters" role="search" aria-label="Event search" onSubmit=${search}>
      <${Field} label="Event id, object id or merchant order number" id="ev-q">
        <input id="ev-q" class="wide" type="search" ...${bind('q')} placeholder="evt_…, pi_…, 4200000…, ORD-…" />
      <//>
      <${Field} label="Provider" id="ev-provider">
        <select id="ev-provider" ...${bind('provider')}>
          <option value="">All</option><option value="stripe">Stripe</option><option value="wechatpay">WeChat Pay</option>
        </select>
      <//>
      <${Field} label="From (UTC)" id="ev-from"><input id="ev-from" type="datetime-local" step="1" ...${bind('from')} /><//>
      <${Field} label="To (UTC)" id="ev-to"><input id="ev-to" type="datetime-local" step="1" ...${bind('to')} /><//>
      <div class="field"><button type="submit">Search</button></div>
    </form>
    <${Status} loaded=${page} />
    ${
      page.data
        ? html`<p class="muted" aria-live="polite">${page.data.events.length} event${page.data.events.length === 1 ? '' : 's'}${values.q ? html` for <q>${values.q}</q>` : ''}, newest first.
          An object id or order number finds the last event of each ledger row it names; a time range finds every event.
          Tab reaches the table, ↑ and ↓ move, Enter opens.</p>
        <div class="table-wrap">
          <table aria-label="Events">
            <thead><tr>
              <th scope="col">Provider time</th><th scope="col">Event</th><th scope="col">Type</th>
              <th scope="col" class="hide-narrow">Provider / account</th><th scope="col">Outcome</th>
              <th scope="col" class="num hide-narrow">Lag to ledger</th>
            </tr></thead>
            <tbody>
              ${page.data.events.map(
                (e) => html`<tr tabindex="0" aria-label=${`Event ${e.eventId}, ${e.eventType}, ${e.outcome}`}
                    onClick=${() => navigate(eventPath(e))} onKeyDown=${(k: KeyboardEvent) => onRowKey(k, () => navigate(eventPath(e)))}>
                  <td>${when(e.occurredAt)}</td>
                  <td><a href=${`#${eventPath(e)}`} tabindex="-1">${e.eventId}</a></td>
                  <td>${e.eventType}</td>
                  <td class="hide-narrow">${e.provider} ${accountName(e.account)}</td>
                  <td><span class=${`badge ${e.outcome}`}>${e.outcome}</span></td>
                  <td class="num hide-narrow">${duration(e.lagMs)}</td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>
        <div class="pager">
          ${cursor ? html`<a href=${`#/ops/events?${new URLSearchParams(applied).toString()}`}>Newest</a>` : null}
          ${
            page.data.nextCursor
              ? html`<a href=${`#/ops/events?${new URLSearchParams([...applied, ['cursor', page.data.nextCursor]]).toString()}`}>Older events</a>`
              : null
          }
        </div>`
        : null
    }`;
}
