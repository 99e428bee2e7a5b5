// Reports: each provider/account/date's current report with its files (summary.json, breaks.csv, matched.csv)
// through short-lived links the API signs on request; and reconciling a bill or report file you already have.
import { useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { account as accountName, Field, Status, useLoad, when } from '../components.ts';
import { html } from '../html.ts';
import type { PageProps } from '../pages.ts';

interface Report {
  provider: string;
  account: string;
  businessDate: string;
  runId: string;
  publishedAt: string;
  unhealedBreaks: number;
  counts: Record<string, number>;
}

const FILES = ['summary.json', 'breaks.csv', 'matched.csv'];

async function download(api: Api, report: Report, file: string) {
  const { url } = await api.get<{ url: string }>(
    `/reports/${report.provider}/${encodeURIComponent(accountName(report.account))}/${report.businessDate}/${file}`,
  );
  // The link is short-lived and needs no token; the server answers with Content-Disposition: attachment.
  window.location.assign(url);
}

export function ReportsPage({ api }: PageProps) {
  const reports = useLoad(() => api.get<{ reports: Report[] }>('/reports'), []);
  const [error, setError] = useState<string | undefined>();
  return html`<h1>Reports</h1>
    <${Status} loaded=${reports} />
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${
      reports.data
        ? html`<div class="table-wrap"><table aria-label="Reports">
          <thead><tr><th scope="col">Business date</th><th scope="col">Provider</th><th scope="col">Account</th>
            <th scope="col" class="num">Unhealed breaks</th><th scope="col" class="hide-narrow">Published</th><th scope="col">Download</th></tr></thead>
          <tbody>${reports.data.reports.map(
            (r) => html`<tr>
              <td>${r.businessDate}</td><td>${r.provider}</td><td>${accountName(r.account)}</td>
              <td class="num">${r.unhealedBreaks}</td><td class="hide-narrow">${when(r.publishedAt)}</td>
              <td>${FILES.map(
                (
                  file,
                ) => html`<button type="button" class="link" aria-label=${`Download ${file} for ${r.provider} ${accountName(r.account)} ${r.businessDate}`}
                  onClick=${() => download(api, r, file).catch((e: Error) => setError(e.message))}>${file}</button>`,
              )}</td>
            </tr>`,
          )}</tbody></table></div>`
        : null
    }
    <${Upload} api=${api} onDone=${reports.reload} />`;
}

interface UploadRun {
  status: string;
  provider: string;
  account: string;
  businessDate: string;
  counts: Record<string, number>;
  breaks: { total: number };
  error?: { code: string; message: string };
  reason?: string;
}

/** GET /recon/file/status: queued or running, then done (with the run) or failed (with why). */
type UploadStatus =
  | { state: 'queued' | 'running'; key: string }
  | { state: 'done'; key: string; file: { name: string; bytes: number; sha256: string }; result: UploadRun }
  | { state: 'failed'; key: string; code: string; message: string };

/** How often the page asks where an upload stands; a run of a large bill takes tens of seconds. */
const POLL_MS = 1000;

function base64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(new Error('the file cannot be read'));
    reader.readAsDataURL(file);
  });
}

function outcome(status: UploadStatus & { state: 'done' | 'failed' }): { ok: boolean; text: string } {
  if (status.state === 'failed') return { ok: false, text: `failed: ${status.message}` };
  const r = status.result;
  if (r.status !== 'succeeded')
    return { ok: false, text: `${r.status}: ${r.error?.message ?? r.reason ?? ''}` };
  return {
    ok: true,
    text: `${r.provider} ${accountName(r.account)} ${r.businessDate}: ${r.counts.matched ?? 0} matched, ${r.breaks.total} break(s) (file ${status.file.name}, sha256 ${status.file.sha256.slice(0, 12)}…)`,
  };
}

/** Polls the upload's status until the run ended (the upload answered 202 before reconciling). */
async function finished(api: Api, key: string): Promise<UploadStatus & { state: 'done' | 'failed' }> {
  for (;;) {
    const status = await api.get<UploadStatus>('/recon/file/status', { key });
    if (status.state === 'done' || status.state === 'failed') return status;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function Upload({ api, onDone }: { api: Api; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();
  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const file = form.get('file') as File | null;
    if (!file || file.size === 0) return setMessage({ ok: false, text: 'Choose a file.' });
    setBusy(true);
    setMessage(undefined);
    try {
      const started = await api.post<{ key: string }>('/recon/file', {
        provider: form.get('provider'),
        account: form.get('account'),
        businessDate: form.get('businessDate'),
        fileName: file.name,
        contentBase64: await base64(file),
        force: form.get('force') === 'on',
      });
      setMessage({ ok: true, text: `Reconciling ${file.name}… (kept as ${started.key})` });
      setMessage(outcome(await finished(api, started.key)));
      onDone();
    } catch (error) {
      setMessage({ ok: false, text: (error as Error).message });
    } finally {
      setBusy(false);
    }
  }
  return html`<h2>Reconcile a file</h2>
    <form class="card filters" onSubmit=${submit} aria-label="Reconcile a file">
      <${Field} label="Provider" id="up-provider">
        <select id="up-provider" name="provider"><option value="wechatpay">WeChat Pay (trade or fund-flow bill)</option><option value="stripe">Stripe (itemized report)</option></select>
      <//>
      <${Field} label="Account" id="up-account"><input id="up-account" name="account" required placeholder="mchid, acct_…, platform" /><//>
      <${Field} label="Business date" id="up-date"><input id="up-date" name="businessDate" type="date" required /><//>
      <${Field} label="Bill or report file" id="up-file"><input id="up-file" name="file" type="file" required accept=".csv,.gz,.txt" /><//>
      <div class="field"><label for="up-force"><input id="up-force" name="force" type="checkbox" /> Replace an existing report for that date</label></div>
      <div class="field"><button type="submit" disabled=${busy}>${busy ? 'Reconciling…' : 'Reconcile'}</button></div>
    </form>
    <p class=${message ? (message.ok ? 'ok' : 'error') : ''} role="status" aria-live="polite">${message?.text ?? ''}</p>`;
}
