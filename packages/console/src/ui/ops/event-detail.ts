// One event: its outcome and timings, the ledger rows whose last change it is (and the merchant orders they are
// checked against), the provider objects it is about, the consumer's failed attempts, and the verified raw body —
// personal data masked by the API (this page never sees it unmasked).
import { account as accountName, duration, money, Status, useLoad, when } from '../components.ts';
import { html } from '../html.ts';
import type { PageProps } from '../pages.ts';
import type { EventSummary } from './events.ts';

type JsonRow = Record<string, unknown>;

interface MirrorRow {
  table: string;
  id: string;
  status: string | null;
  lastChangedByThisEvent: boolean;
  lastEventId: string;
  data: unknown;
}

interface EventDetail {
  event: (EventSummary & { apiVersion: string | null; rawPayloadPurgedAt: string | null }) | null;
  changed: {
    payments: JsonRow[];
    refunds: JsonRow[];
    disputes: JsonRow[];
    anomalies: JsonRow[];
    merchantOrders: JsonRow[];
    mirror: MirrorRow[];
  };
  failures: JsonRow[];
  rawBody?: string | null;
}

/** Columns worth reading per ledger table; `amount` is amount_minor with its currency. */
const COLUMNS: Record<keyof Omit<EventDetail['changed'], 'mirror'>, [string, string][]> = {
  payments: [
    ['provider_payment_id', 'Payment'],
    ['merchant_order_no', 'Merchant order'],
    ['account', 'Account'],
    ['status', 'Status'],
    ['amount', 'Amount'],
    ['updated_at', 'Updated'],
  ],
  refunds: [
    ['provider_refund_id', 'Refund'],
    ['provider_payment_id', 'Payment'],
    ['merchant_refund_no', 'Merchant refund'],
    ['status', 'Status'],
    ['amount', 'Amount'],
    ['updated_at', 'Updated'],
  ],
  disputes: [
    ['provider_dispute_id', 'Dispute'],
    ['provider_payment_id', 'Payment'],
    ['reason', 'Reason'],
    ['status', 'Status'],
    ['amount', 'Amount'],
    ['updated_at', 'Updated'],
  ],
  anomalies: [
    ['kind', 'Anomaly'],
    ['provider_payment_id', 'Payment'],
    ['merchant_order_no', 'Merchant order'],
    ['expected', 'Expected'],
    ['actual', 'Paid'],
    ['detected_at', 'Detected'],
  ],
  merchantOrders: [
    ['merchant_order_no', 'Merchant order'],
    ['account', 'Account'],
    ['amount', 'Expected amount'],
    ['created_at', 'Created'],
  ],
};

const TITLES: Record<keyof typeof COLUMNS, string> = {
  payments: 'Payments',
  refunds: 'Refunds',
  disputes: 'Disputes',
  anomalies: 'Anomalies raised',
  merchantOrders: 'Merchant orders (what they should be paid)',
};

const text = (v: unknown) => (v === null || v === undefined || v === '' ? '—' : String(v));

function cell(row: JsonRow, column: string) {
  if (column === 'amount') return money(row.amount_minor as string, row.currency as string);
  if (column === 'expected')
    return money(row.expected_amount_minor as string, row.expected_currency as string);
  if (column === 'actual') return money(row.actual_amount_minor as string, row.actual_currency as string);
  if (column === 'account') return accountName(row.account as string);
  if (column.endsWith('_at')) return when(row[column] as string | null);
  return text(row[column]);
}

/** The raw body as sent, pretty-printed when it is JSON (the bytes verified were the compact ones). */
function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export function EventDetailPage({ api, params }: PageProps) {
  const provider = params.provider ?? '';
  const eventId = params.eventId ?? '';
  const loaded = useLoad(
    () => api.get<EventDetail>(`/ops/events/${encodeURIComponent(provider)}/${encodeURIComponent(eventId)}`),
    [provider, eventId],
  );
  const d = loaded.data;
  const e = d?.event;
  const ledgerKinds = (Object.keys(COLUMNS) as (keyof typeof COLUMNS)[]).filter(
    (kind) => (d?.changed[kind].length ?? 0) > 0,
  );
  return html`<p><a href="#/ops/events">← Events</a></p>
    <h1>Event ${eventId} <span class="muted">(${provider})</span>${e ? html` <span class=${`badge ${e.outcome}`}>${e.outcome}</span>` : null}</h1>
    <${Status} loaded=${loaded} />
    ${
      d
        ? html`${
            e
              ? html`<dl class="facts card">
                <dt>Type</dt><dd>${e.eventType}</dd>
                <dt>Account</dt><dd>${accountName(e.account)}</dd>
                <dt>Outcome</dt><dd>${e.outcome}</dd>
                <dt>Provider time</dt><dd>${when(e.occurredAt)}</dd>
                <dt>Received</dt><dd>${when(e.receivedAt)}</dd>
                <dt>In the ledger</dt><dd>${when(e.appliedAt)} (lag ${duration(e.lagMs)})</dd>
                ${e.apiVersion ? html`<dt>API version</dt><dd>${e.apiVersion}</dd>` : null}
              </dl>`
              : html`<p class="card">Not in the inbox: the consumer has not applied this event. Its failed attempts are
                below; a message that failed too often is in the <a href="#/ops/dead-letters">dead letters</a>.</p>`
          }
          <h2>Ledger rows this event last changed</h2>
          ${
            ledgerKinds.length === 0
              ? html`<p class="muted">None: no payment, refund or dispute has this event as its last change (a later
                event may have changed it since, or the event changed nothing).</p>`
              : ledgerKinds.map(
                  (kind) => html`<div class="table-wrap spaced"><table aria-label=${TITLES[kind]}>
                    <caption>${TITLES[kind]}</caption>
                    <thead><tr>${COLUMNS[kind].map(([, label]) => html`<th scope="col">${label}</th>`)}</tr></thead>
                    <tbody>${d.changed[kind].map(
                      (row) =>
                        html`<tr class="static">${COLUMNS[kind].map(([c]) => html`<td>${cell(row, c)}</td>`)}</tr>`,
                    )}</tbody>
                  </table></div>`,
                )
          }
          ${
            d.changed.mirror.length > 0
              ? html`<h2>Provider objects</h2>
                <ul class="plain">${d.changed.mirror.map(
                  (m) => html`<li><details><summary>${m.table} ${m.id} · ${m.status ?? 'no status'} ·
                    ${m.lastChangedByThisEvent ? 'last changed by this event' : `changed since by ${m.lastEventId}`}</summary>
                    <pre>${JSON.stringify(m.data, null, 2)}</pre></details></li>`,
                )}</ul>`
              : null
          }
          ${
            d.failures.length > 0
              ? html`<h2>Failed attempts</h2>
                <ol class="trail" aria-label="Failed attempts">${d.failures.map(
                  (f) =>
                    html`<li><strong>${text(f.error_code)}</strong> at ${when(f.failed_at as string)} (attempt ${text(f.attempt)}): ${text(f.error_message)}</li>`,
                )}</ol>`
              : null
          }
          <h2 id="raw-title">Raw body (personal data masked)</h2>
          ${
            d.rawBody
              ? html`<pre class="raw" aria-labelledby="raw-title" tabindex="0">${pretty(d.rawBody)}</pre>`
              : html`<p class="muted">${
                  e?.rawPayloadPurgedAt
                    ? `Purged at ${when(e.rawPayloadPurgedAt)} (raw bodies are kept for a limited time).`
                    : 'No raw body is stored for this event.'
                }</p>`
          }`
        : null
    }`;
}
