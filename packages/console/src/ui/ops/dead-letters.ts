// Dead letters: each message with the consumer's last failure reason, and replay in two steps — tick the messages,
// then confirm the exact list. The API re-drives exactly the confirmed ids or nothing (409 when one is gone, e.g.
// replayed by someone else): the page then reloads the list.
import { useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { account as accountName, age, Status, useLoad, when } from '../components.ts';
import { html } from '../html.ts';
import type { PageProps } from '../pages.ts';
import { eventPath } from './events.ts';

interface DeadLetterRow {
  messageId: string;
  provider: string | null;
  eventId: string | null;
  eventType: string | null;
  account: string | null;
  receivedAt: string | null;
  sentAt: string | null;
  bodyBytes: number;
  invalid: string | null;
  failedAttempts: number;
  lastFailure: { at: string; attempt: number; code: string; message: string } | null;
}

interface DeadLetterList {
  deadLetters: DeadLetterRow[];
  depth: number;
  oldestSentAt: string | null;
}

interface ReplayResult {
  replayed: string[];
  sentNotDeleted: string[];
  notSent: string[];
}

const reason = (l: DeadLetterRow) =>
  l.invalid
    ? `not an envelope: ${l.invalid}`
    : l.lastFailure
      ? `${l.lastFailure.code}: ${l.lastFailure.message}`
      : 'no failure recorded (the consumer stopped before recording one)';

const named = (l: DeadLetterRow) => (l.eventId ? `${l.provider} ${l.eventId}` : `message ${l.messageId}`);

export function DeadLettersPage({ api }: PageProps) {
  const list = useLoad(() => api.get<DeadLetterList>('/ops/dead-letters', { limit: 100 }), []);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState<DeadLetterRow[] | undefined>();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();
  const letters = list.data?.deadLetters ?? [];
  const chosen = letters.filter((l) => selected.has(l.messageId));

  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
  const ask = () => {
    setMessage(undefined);
    setConfirming(chosen);
    // The confirmation takes the focus, so a keyboard user lands on the decision.
    requestAnimationFrame(() => document.getElementById('replay-confirm')?.focus());
  };
  async function replay() {
    if (!confirming) return;
    setBusy(true);
    try {
      const r = await api.post<ReplayResult>('/ops/dead-letters/replay', {
        messageIds: confirming.map((l) => l.messageId),
      });
      const parts = [
        `Replayed ${r.replayed.length} message${r.replayed.length === 1 ? '' : 's'} to the main queue.`,
      ];
      if (r.sentNotDeleted.length > 0)
        parts.push(
          `${r.sentNotDeleted.length} sent but still listed (the ledger applies each event at most once).`,
        );
      if (r.notSent.length > 0) parts.push(`${r.notSent.length} not sent: still dead letters.`);
      setMessage({ ok: r.notSent.length === 0, text: parts.join(' ') });
      setSelected(new Set());
    } catch (error) {
      const gone = error instanceof ApiError && error.code === 'OPS_DLQ_MISSING';
      setMessage({ ok: false, text: gone ? `${error.message}.` : (error as Error).message });
    } finally {
      setBusy(false);
      setConfirming(undefined);
      list.reload();
    }
  }

  return html`<h1>Dead letters</h1>
    <${Status} loaded=${list} />
    ${message ? html`<p class=${message.ok ? 'ok' : 'error'} role="status">${message.text}</p>` : null}
    ${
      list.data
        ? html`<p>${list.data.depth} message${list.data.depth === 1 ? '' : 's'} in the dead-letter queue${
            list.data.oldestSentAt
              ? `; the oldest was first sent ${when(list.data.oldestSentAt)} (${age(list.data.oldestSentAt)} ago)`
              : ''
          }. Fix the cause first: a replayed message that fails again comes back here.</p>
          ${
            letters.length === 0
              ? html`<p class="ok">No dead letters.</p>`
              : html`<div class="table-wrap"><table aria-label="Dead letters">
                <thead><tr>
                  <th scope="col"><input type="checkbox" aria-label="Select every dead letter"
                    checked=${chosen.length === letters.length}
                    onChange=${(e: Event) => setSelected((e.target as HTMLInputElement).checked ? new Set(letters.map((l) => l.messageId)) : new Set())} /></th>
                  <th scope="col">Event</th><th scope="col">Reason</th><th scope="col" class="num">Failed attempts</th>
                  <th scope="col" class="hide-narrow">First sent</th><th scope="col" class="hide-narrow">Account</th>
                </tr></thead>
                <tbody>${letters.map(
                  (l) => html`<tr class="static">
                    <td><input type="checkbox" aria-label=${`Select ${named(l)}`} checked=${selected.has(l.messageId)}
                      onChange=${(e: Event) => toggle(l.messageId, (e.target as HTMLInputElement).checked)} /></td>
                    <td>${
                      l.eventId && l.provider
                        ? html`<a href=${`#${eventPath({ provider: l.provider, eventId: l.eventId })}`}>${l.eventId}</a><br /><span class="muted">${l.eventType}</span>`
                        : html`<span class="muted">${l.messageId}</span>`
                    }</td>
                    <td class="reason">${reason(l)}</td>
                    <td class="num">${l.failedAttempts}</td>
                    <td class="hide-narrow">${when(l.sentAt)}</td>
                    <td class="hide-narrow">${l.provider ? `${l.provider} ${accountName(l.account)}` : '—'}</td>
                  </tr>`,
                )}</tbody>
              </table></div>
              <p><button type="button" disabled=${chosen.length === 0 || !!confirming} onClick=${ask}>
                Replay selected (${chosen.length})…</button></p>`
          }`
        : null
    }
    ${
      confirming
        ? html`<section class="card confirm" role="alertdialog" aria-labelledby="replay-title" aria-describedby="replay-what">
          <h2 id="replay-title">Replay ${confirming.length} dead letter${confirming.length === 1 ? '' : 's'}?</h2>
          <p id="replay-what">These go back to the main queue exactly as they are; the consumer applies each event at
            most once.</p>
          <ul class="replay-list">${confirming.map((l) => html`<li>${named(l)} — ${reason(l)}</li>`)}</ul>
          <div class="actions">
            <button type="button" id="replay-confirm" class="danger" disabled=${busy} onClick=${replay}>
              ${busy ? 'Replaying…' : `Confirm replay of ${confirming.length}`}</button>
            <button type="button" class="secondary" disabled=${busy} onClick=${() => setConfirming(undefined)}>Cancel</button>
          </div>
        </section>`
        : null
    }`;
}
