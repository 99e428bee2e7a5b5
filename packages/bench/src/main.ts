// `npm run bench [-- --case 1,3] [--quick] [--out file.json]`: runs the benchmark cases, prints the table and
// writes bench-results/latest.json. Every figure is a ratio against a baseline measured in the same run.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeJson } from './fixtures.ts';
import { runBench } from './run.ts';
import { formatTable } from './table.ts';

const { values } = parseArgs({
  options: {
    case: { type: 'string' },
    quick: { type: 'boolean', default: false },
    tiny: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench-results/latest.json' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`usage: npm run bench -- [--case 1,2,3,4,5,6,7,8] [--quick | --tiny] [--out bench-results/latest.json]
  1 ingress CPU   2 ingress over HTTP   3 consumer + connection cap   4 cold start   5 reconciliation   6 wechatpay-node-v3
  7 end to end (npm start stack vs a synchronous verify-and-upsert server)`);
  process.exit(0);
}

const cases = values.case ? values.case.split(',').map((s) => Number(s.trim())) : [1, 2, 3, 4, 5, 6, 7, 8];
const started = Date.now();
const log = (line: string) =>
  console.error(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);

const report = await runBench({ cases, quick: values.quick, tiny: values.tiny, log });
const out = path.resolve(values.out);
mkdirSync(path.dirname(out), { recursive: true });
writeJson(out, report);
console.log(`\n${formatTable(report.cases)}\n`);
console.log(
  `node ${report.machine.node}, ${report.machine.cpus} × ${report.machine.cpuModel}, mode ${report.mode}`,
);
console.log(`results: ${path.relative(process.cwd(), out)}`);
process.exit(0);
