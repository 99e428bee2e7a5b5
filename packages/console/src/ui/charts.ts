// Small hand-written SVG charts (no chart library): bars over days or hours, stacked by series (parts of a whole:
// volume, queue depth) or grouped side by side (figures that do not add up: p50 and p95 lag). Each chart has a
// title and a text summary for screen readers, and a legend in text.
import { html } from './html.ts';

export interface BarSeries {
  name: string;
  color: string;
  /** One value per label. */
  values: number[];
}

const PALETTE = ['#0b5cad', '#b42318', '#9a6700', '#1a7f37', '#6e40c9', '#bc4c00', '#57606a', '#0a7c86'];
export const color = (i: number) => PALETTE[i % PALETTE.length]!;

export function StackedBars({
  title,
  labels,
  series,
  format = (n: number) => String(n),
  tick = (label: string) => label.slice(5),
  unit = 'days',
  grouped = false,
}: {
  title: string;
  labels: string[];
  series: BarSeries[];
  format?: (n: number) => string;
  /** The axis text of a label (default: `MM-DD` of a `YYYY-MM-DD` date). */
  tick?: (label: string) => string;
  /** What the labels count, for the summary ("24 hours"). */
  unit?: string;
  /** Bars side by side instead of stacked. */
  grouped?: boolean;
}) {
  const width = 600;
  const height = 180;
  const left = 48;
  const bottom = 22;
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + Math.max(0, s.values[i] ?? 0), 0));
  const highest = grouped
    ? Math.max(0, ...series.flatMap((s) => s.values.map((v) => Math.max(0, v))))
    : Math.max(0, ...totals);
  const max = Math.max(1, highest);
  const slot = (width - left) / Math.max(1, labels.length);
  const bar = Math.max(2, slot * 0.7);
  const y = (v: number) => ((height - bottom) * v) / max;
  const total = totals.reduce((a, b) => a + b, 0);
  const summary = grouped
    ? `${title}: ${labels.length} ${unit}, highest ${format(highest)}.`
    : `${title}: ${labels.length} ${unit}, total ${format(total)}, highest ${format(highest)}.`;
  return html`<figure class="card">
    <figcaption><strong>${title}</strong></figcaption>
    <svg class="chart" viewBox=${`0 0 ${width} ${height}`} role="img" aria-label=${summary}>
      <line x1=${left} y1=${height - bottom} x2=${width} y2=${height - bottom} stroke="#8c959f" />
      <text x=${left - 4} y="10" text-anchor="end">${format(max)}</text>
      <text x=${left - 4} y=${height - bottom} text-anchor="end">0</text>
      ${labels.map((label, i) => {
        let base = height - bottom;
        const x = left + i * slot + (slot - bar) / 2;
        const each = grouped ? bar / Math.max(1, series.length) : bar;
        const rects = series.map((s, k) => {
          const h = y(Math.max(0, s.values[i] ?? 0));
          if (!grouped) base -= h;
          const top = grouped ? height - bottom - h : base;
          return h > 0
            ? html`<rect x=${grouped ? x + k * each : x} y=${top} width=${each} height=${h} fill=${s.color}><title>${tick(label)} ${s.name}: ${format(s.values[i] ?? 0)}</title></rect>`
            : null;
        });
        const axis =
          i % Math.ceil(labels.length / 6) === 0
            ? html`<text x=${x + bar / 2} y=${height - 6} text-anchor="middle">${tick(label)}</text>`
            : null;
        return html`<g>${rects}${axis}</g>`;
      })}
    </svg>
    ${
      series.length > 1
        ? html`<ul class="legend">${series.map((s) => html`<li><svg class="swatch" width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill=${s.color} /></svg> ${s.name}</li>`)}</ul>`
        : null
    }
  </figure>`;
}
