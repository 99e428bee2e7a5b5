// One break: both sides (the provider's bill/report line with its raw status, and the ledger's row now), where
// runs saw it and healed it, the audit trail, and the actions (assign, note, resolve, write off with a reason).
import { useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { account as accountName, Field, money, Status, useLoad, when } from '../components.ts';
import { html } from '../html.ts';
import type { PageProps } from '../pages.ts';
import type { BreakRow } from './breaks.ts';

interface BreakEvent {
  id: string;
  at: string;
  actor: string;
  action: string;
  note: string | null;
  fromState: string | null;
  toState: string | null;
  runId: string | null;
}

interface Detail extends BreakRow {
  resolution: string | null;
  closedByRun: string | null;
  item: Record<string, string | number | null>;
  ledger: {
    table: string;
    id: string;
    status: string | null;
    amountMinor: string | null;
    currency: string | null;
    merchantOrderNo: string | null;
    updatedAt: string | null;
  } | null;
  sightings: {
    businessDate: string;
    runId: string;
    seenAt: string;
    healedInRun: boolean;
    healNote: string | null;
    goneRun: string | null;
  }[];
  healHistory: BreakEvent[];
  events: BreakEvent[];
}

const PROVIDER_FIELDS: [string, string][] = [
  ['source', 'Source file'],
  ['lineNo', 'Line'],
  ['providerPaymentId', 'Payment id'],
  ['providerRefundId', 'Refund id'],
  ['payoutId', 'Payout'],
  ['merchantOrderNo', 'Merchant order'],
  ['merchantRefundNo', 'Merchant refund'],
  ['billStatus', 'Status'],
  ['billProviderStatus', 'Raw status (as the file wrote it)'],
  ['occurredAt', 'Time'],
  ['detail', 'Detail'],
];

export function BreakDetailPage({ api, me, params }: PageProps) {
  const loaded = useLoad(
    () => api.get<Detail>(`/breaks/${encodeURIComponent(params.id ?? '')}`),
    [params.id],
  );
  const b = loaded.data;
  const canAct = me.roles.includes('finance');
  return html`<p><a href="#/breaks">← Break queue</a></p>
    <${Status} loaded=${loaded} />
    ${
      b
        ? html`<h1>Break #${b.id} · ${b.class} <span class=${`badge ${b.state}`}>${b.state}</span></h1>
        <dl class="facts card">
          <dt>Provider</dt><dd>${b.provider} ${accountName(b.account)}</dd>
          <dt>First seen</dt><dd>${b.firstSeenDate} (age ${b.ageDays} days)</dd>
          <dt>Last seen</dt><dd>${b.lastSeenDate}</dd>
          <dt>Assignee</dt><dd>${b.assignee ?? '—'}</dd>
          ${b.resolution ? html`<dt>Resolution</dt><dd>${b.resolution}</dd>` : null}
        </dl>
        <div class="two">
          <section class="card" aria-labelledby="side-provider">
            <h2 id="side-provider">Provider side</h2>
            <dl class="facts">
              <dt>Amount</dt><dd>${money(b.item.billAmountMinor as string | null, b.item.billCurrency as string | null)}</dd>
              ${PROVIDER_FIELDS.filter(([k]) => b.item[k] !== null && b.item[k] !== undefined).map(
                ([k, label]) => html`<dt>${label}</dt><dd>${String(b.item[k])}</dd>`,
              )}
            </dl>
          </section>
          <section class="card" aria-labelledby="side-ledger">
            <h2 id="side-ledger">Ledger side</h2>
            ${
              b.ledger
                ? html`<dl class="facts">
                  <dt>Amount</dt><dd>${money(b.ledger.amountMinor, b.ledger.currency)}</dd>
                  <dt>Status</dt><dd>${b.ledger.status ?? '—'}</dd>
                  <dt>Row</dt><dd>${b.ledger.table} ${b.ledger.id}</dd>
                  <dt>Merchant order</dt><dd>${b.ledger.merchantOrderNo ?? '—'}</dd>
                  <dt>Updated</dt><dd>${when(b.ledger.updatedAt)}</dd>
                  <dt>At the run</dt><dd>${money(b.item.ledgerAmountMinor as string | null, b.item.ledgerCurrency as string | null)} ${b.item.ledgerStatus ?? ''}</dd>
                </dl>`
                : html`<p>The ledger has no row for this object.</p>`
            }
          </section>
        </div>
        <h2>Heal history</h2>
        <ol class="trail" aria-label="Heal history">
          ${b.sightings.map(
            (s) =>
              html`<li>Seen by run ${s.runId.slice(0, 8)} for ${s.businessDate} at ${when(s.seenAt)}${s.healedInRun ? ` — healed${s.healNote ? `: ${s.healNote}` : ''}` : ''}${s.goneRun ? ` — no longer found by run ${s.goneRun.slice(0, 8)}` : ''}</li>`,
          )}
          ${b.item.healNote ? html`<li>Heal note: ${b.item.healNote}</li>` : null}
        </ol>
        ${canAct ? html`<${Actions} api=${api} detail=${b} onDone=${loaded.reload} />` : html`<p class="muted">Only finance can act on breaks.</p>`}
        <h2>Audit trail</h2>
        <ol class="trail" aria-label="Audit trail">
          ${b.events.map(
            (e) =>
              html`<li><strong>${e.action}</strong> by ${e.actor} at ${when(e.at)}${e.fromState && e.toState && e.fromState !== e.toState ? ` (${e.fromState} → ${e.toState})` : ''}${e.note ? html`: <q>${e.note}</q>` : null}</li>`,
          )}
        </ol>`
        : null
    }`;
}

function Actions({ api, detail, onDone }: { api: Api; detail: Detail; onDone: () => void }) {
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();
  const closed = detail.state === 'resolved' || detail.state === 'written_off';
  async function run(event: Event, action: string, body: Record<string, string>) {
    event.preventDefault();
    try {
      await api.post(`/breaks/${detail.id}/${action}`, body);
      (event.target as HTMLFormElement).reset();
      setMessage({ ok: true, text: `${action.replace('-', ' ')}: done` });
      onDone();
    } catch (error) {
      setMessage({ ok: false, text: (error as Error).message });
    }
  }
  const value = (event: Event, name: string) =>
    String(new FormData(event.target as HTMLFormElement).get(name) ?? '');
  return html`<h2>Actions</h2>
    ${message ? html`<p class=${message.ok ? 'ok' : 'error'} role="status">${message.text}</p>` : null}
    <div class="actions">
      <form class="card" aria-label="Add a note" onSubmit=${(e: Event) => run(e, 'note', { text: value(e, 'text') })}>
        <${Field} label="Note" id="act-note"><textarea id="act-note" name="text" rows="2" required></textarea><//>
        <button type="submit">Add note</button>
      </form>
      ${
        closed
          ? null
          : html`<form class="card" aria-label="Assign the break" onSubmit=${(e: Event) => run(e, 'assign', { assignee: value(e, 'assignee') })}>
            <${Field} label="Assign to" id="act-assign"><input id="act-assign" name="assignee" required value=${detail.assignee ?? ''} /><//>
            <button type="submit" class="secondary">Assign</button>
          </form>
          <form class="card" aria-label="Resolve the break" onSubmit=${(e: Event) => run(e, 'resolve', { reason: value(e, 'reason') })}>
            <${Field} label="Resolution (optional)" id="act-resolve"><input id="act-resolve" name="reason" /><//>
            <button type="submit">Resolve</button>
          </form>
          ${
            detail.state === 'open'
              ? html`<form class="card" aria-label="Write the break off" onSubmit=${(e: Event) => run(e, 'write-off', { reason: value(e, 'reason') })}>
                <${Field} label="Reason for the write-off" id="act-writeoff"><input id="act-writeoff" name="reason" required /><//>
                <button type="submit" class="danger">Write off</button>
              </form>`
              : null
          }`
      }
    </div>`;
}
