// The printed summary: one line per figure with measured, baseline, ratio, target and verdict.
import type { BenchRow, CaseResult, Target } from './types.ts';

function num(value: number | null, unit = ''): string {
  if (value === null) return '—';
  const abs = Math.abs(value);
  const text =
    abs >= 1000
      ? Math.round(value).toLocaleString('en-US')
      : abs >= 100
        ? value.toFixed(0)
        : abs >= 10
          ? value.toFixed(1)
          : value.toFixed(2);
  return unit ? `${text} ${unit}` : text;
}

export function targetText(target: Target | null): string {
  if (!target) return 'record';
  const op = target.op === '>=' ? '≥' : '≤';
  return target.on === 'ratio' ? `${op} ${target.value}×` : `${op} ${target.value}`;
}

function verdict(row: BenchRow): string {
  return row.pass === null ? '—' : row.pass ? 'pass' : 'FAIL';
}

export function formatTable(cases: readonly CaseResult[]): string {
  const header = ['case', 'measured', 'baseline', 'ratio', 'target', 'result'];
  const lines: string[][] = [];
  for (const result of cases) {
    for (const row of result.rows) {
      lines.push([
        row.id,
        num(row.measured, row.unit),
        num(row.baseline, row.baseline === null ? '' : row.unit),
        row.ratio === null ? '—' : `${row.ratio.toFixed(2)}×`,
        targetText(row.target),
        verdict(row),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)].join('\n');
}

/** Markdown version of the same table, for docs/benchmarks.md. */
export function formatMarkdown(cases: readonly CaseResult[]): string {
  const out = [
    '| case | measured | baseline | ratio | target | result |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const result of cases) {
    for (const row of result.rows) {
      out.push(
        `| ${row.id} | ${num(row.measured, row.unit)} | ${num(row.baseline, row.baseline === null ? '' : row.unit)} | ${
          row.ratio === null ? '—' : `${row.ratio.toFixed(2)}×`
        } | ${targetText(row.target)} | ${verdict(row)} |`,
      );
    }
  }
  return out.join('\n');
}
