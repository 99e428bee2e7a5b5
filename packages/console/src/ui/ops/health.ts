// Health: the queues now (depth of the main queue and the DLQ, the oldest dead letter's age), recent ingress
// rejections by reason, and over the last hours the lag from provider event to ledger and the sampled queue depth.
import { color, StackedBars } from '../charts.ts';
import { account as accountName, age, duration, Field, Status, useLoad, when } from '../components.ts';
import { html } from '../html.ts';
import type { PageProps } from '../pages.ts';
import { navigate } from '../route.ts';

interface Depth {
  visible: number;
  inFlight: number;
  delayed: number;
}
interface Rejections {
  available: boolean;
  hours: number;
  capacity?: number;
  rejections: { provider: string; reason: string; count: number; lastAt: string }[];
  note?: string;
}
interface LagBucket {
  hour: string;
  provider: string;
  account: string;
  events: number;
  p50Ms: number;
  p95Ms: number;
}
interface DepthSample extends Depth {
  queue: 'main' | 'dlq';
  at: string;
}

type OldestAge = { seconds: number; at: string } | null;
type OldestAges = { main: OldestAge; dlq: OldestAge };

const seconds = (s: number) =>
  s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;

/** ApproximateAgeOfOldestMessage per queue (CloudWatch in a stage, the local SQS service locally). */
function OldestMessages(ages: OldestAges | null) {
  if (!ages)
    return html`<p class="muted">No source of the queues' oldest-message age (ApproximateAgeOfOldestMessage) here.</p>`;
  const one = (age: OldestAge) => (age ? html`<strong>${seconds(age.seconds)}</strong>` : 'empty');
  const at = ages.main?.at ?? ages.dlq?.at;
  return html`<p aria-label="Oldest message">Oldest message: main queue ${one(ages.main)}, dead letters ${one(ages.dlq)}${
    at ? html` <span class="muted">(as of ${when(at)})</span>` : null
  }.</p>`;
}

/** Valid for every route of the page (rejections ≤ 168 h, lag ≤ 336 h, queue depth ≤ 48 h). */
const HOURS = ['1', '6', '24', '48'];
const MAX_BARS = 60;
const hhmm = (iso: string) => iso.slice(11, 16);

export function HealthPage({ api, location }: PageProps) {
  const hours = HOURS.includes(location.query.get('hours') ?? '') ? location.query.get('hours')! : '24';
  const queues = useLoad(
    () =>
      api.get<{ main: Depth; dlq: Depth; at: string; oldestMessageAge: OldestAges | null }>('/ops/queues'),
    [],
  );
  const dead = useLoad(
    () => api.get<{ depth: number; oldestSentAt: string | null }>('/ops/dead-letters', { limit: 100 }),
    [],
  );
  const rejections = useLoad(() => api.get<Rejections>('/ops/rejections', { hours }), [hours]);
  const lag = useLoad(() => api.get<{ buckets: LagBucket[] }>('/ops/charts/lag', { hours }), [hours]);
  const depth = useLoad(
    () => api.get<{ samples: DepthSample[] }>('/ops/charts/queue-depth', { hours }),
    [hours],
  );

  return html`<h1>Health</h1>
    <form class="filters" aria-label="Time window" onSubmit=${(e: Event) => e.preventDefault()}>
      <${Field} label="Last hours (rejections and charts)" id="hl-hours">
        <select id="hl-hours" value=${hours} onChange=${(e: Event) => navigate('/ops/health', { hours: (e.target as HTMLSelectElement).value })}>
          ${HOURS.map((h) => html`<option value=${h}>${h}</option>`)}
        </select>
      <//>
    </form>
    <div class="two">
      <section class="card" aria-labelledby="q-title">
        <h2 id="q-title">Queues</h2>
        <${Status} loaded=${queues} />
        ${
          queues.data
            ? html`<div class="table-wrap"><table aria-label="Queue depth">
              <thead><tr><th scope="col">Queue</th><th scope="col" class="num">Waiting</th><th scope="col" class="num">In flight</th><th scope="col" class="num">Delayed</th></tr></thead>
              <tbody>
                ${(['main', 'dlq'] as const).map(
                  (
                    q,
                  ) => html`<tr class="static"><th scope="row">${q === 'main' ? 'Main queue' : 'Dead letters'}</th>
                    <td class="num">${queues.data![q].visible}</td><td class="num">${queues.data![q].inFlight}</td><td class="num">${queues.data![q].delayed}</td></tr>`,
                )}
              </tbody></table></div>
              <p class="muted">At ${when(queues.data.at)}.</p>`
            : null
        }
        ${
          dead.data
            ? html`<p>Oldest dead letter: ${
                dead.data.oldestSentAt
                  ? html`first sent ${when(dead.data.oldestSentAt)}, <strong>${age(dead.data.oldestSentAt)}</strong> ago — <a href="#/ops/dead-letters">see the dead letters</a>`
                  : 'none'
              }.</p>`
            : null
        }
        ${queues.data ? OldestMessages(queues.data.oldestMessageAge) : null}
      </section>
      <section class="card" aria-labelledby="r-title">
        <h2 id="r-title">Rejected callbacks, last ${hours} h</h2>
        <${Status} loaded=${rejections} />
        ${rejections.data ? RejectionTable(rejections.data) : null}
      </section>
    </div>
    <h2>Last ${hours} hours</h2>
    <${Status} loaded=${lag} />
    <${Status} loaded=${depth} />
    <div class="two">
      ${lag.data ? LagChart(lag.data.buckets) : null}
      ${depth.data ? DepthChart(depth.data.samples) : null}
    </div>`;
}

function RejectionTable(r: Rejections) {
  if (!r.available) return html`<p class="muted">${r.note}</p>`;
  if (r.rejections.length === 0) return html`<p class="ok">None.</p>`;
  return html`<div class="table-wrap"><table aria-label="Rejections by reason">
      <thead><tr><th scope="col">Provider</th><th scope="col">Reason</th><th scope="col" class="num">Count</th><th scope="col" class="hide-narrow">Last</th></tr></thead>
      <tbody>${r.rejections.map(
        (x) =>
          html`<tr class="static"><td>${x.provider}</td><td>${x.reason}</td><td class="num">${x.count}</td><td class="hide-narrow nowrap">${when(x.lastAt)}</td></tr>`,
      )}</tbody>
    </table></div>
    <p class="muted">From the gateway's memory of the last ${r.capacity} rejections.</p>`;
}

function LagChart(buckets: LagBucket[]) {
  if (buckets.length === 0)
    return html`<p class="card muted">No event reached the ledger in this window.</p>`;
  const labels = [...new Set(buckets.map((b) => b.hour))].sort();
  const keys = [...new Set(buckets.map((b) => `${b.provider} ${accountName(b.account)}`))].sort();
  const series = keys.map((key, i) => ({
    name: key,
    color: color(i),
    values: labels.map(
      (hour) =>
        buckets.find((b) => b.hour === hour && `${b.provider} ${accountName(b.account)}` === key)?.p95Ms ?? 0,
    ),
  }));
  return html`<${StackedBars} title="Lag from provider event to ledger (p95 per hour)" labels=${labels}
    series=${series} grouped=${true} unit="hours" tick=${hhmm} format=${duration} />`;
}

/** The samples per minute, at most MAX_BARS bars (the highest depth of the minutes a bar covers). */
function DepthChart(samples: DepthSample[]) {
  if (samples.length === 0) return html`<p class="card muted">No queue depth sampled in this window.</p>`;
  const minutes = [...new Set(samples.map((s) => s.at.slice(0, 16)))].sort();
  const per = Math.ceil(minutes.length / MAX_BARS);
  const labels = minutes.filter((_, i) => i % per === 0);
  const total = (s: Depth) => s.visible + s.inFlight + s.delayed;
  const values = (queue: DepthSample['queue']) =>
    labels.map((_, i) => {
      const covered = new Set(minutes.slice(i * per, (i + 1) * per));
      const depths = samples.filter((s) => s.queue === queue && covered.has(s.at.slice(0, 16))).map(total);
      return Math.max(0, ...depths);
    });
  return html`<${StackedBars} title="Queue depth (messages, highest per bar)" labels=${labels} unit="samples"
    grouped=${true} tick=${hhmm}
    series=${[
      { name: 'main queue', color: color(0), values: values('main') },
      { name: 'dead letters', color: color(1), values: values('dlq') },
    ]} />`;
}
