// `npx tsx packages/bench/src/consumer-statements.ts [events] [batch] [explain]`: where PostgreSQL's time goes per
// consumer batch. Applies case 3's workload batch by batch on one connection through applyEnvelopeBatch, but
// sends the statements one at a time (not pipelined) so each one's wall time and its backend's CPU (/proc ticks:
// coarse per statement, unbiased summed over many) can be told apart; prints them per statement kind. With
// `explain`, prints EXPLAIN (ANALYZE, BUFFERS) of each kind's statement from one mid-run batch (rolled back).
// Not a benchmark figure: the numbers that count come from `npm run bench -- --case 3`.
import { readFileSync } from 'node:fs';
import { decodeEnvelope } from '@payhooks/core/envelope';
import { commitEnvelopeBatch, createSql, type Sql } from '@payhooks/core/ledger';
import { stripeNormalizerFromEnv, wechatpayNormalizerFromEnv } from '@payhooks/functions/wiring/normalizers';
import { buildWorkload, seedMerchantOrders } from './cases/consumer.ts';
import { parseStat } from './e2e/proc-cpu.ts';
import { ledgerDatabases, startBenchPostgres } from './postgres.ts';
import { now } from './stats.ts';

const [events = 4000, batchSize = 100] = process.argv.slice(2, 4).map(Number);
const explain = process.argv[4] === 'explain';

const kindOf = (text: string) => {
  const t = text.trim();
  if (t === 'begin' || t === 'commit') return t;
  const insert = /^insert into (\S+)/.exec(t);
  if (insert) return `insert ${insert[1]}`;
  const ties = /^with held as \(\s*select id, version from (\S+)/.exec(t);
  if (ties) return `upsert+ties ${ties[1]}`;
  if (t.startsWith('with input as')) return 'merchant-order check';
  if (t.startsWith('select provider, event_id from inbox_events')) return 'known';
  return t.slice(0, 40);
};

const postgres = await startBenchPostgres();
try {
  const workload = await buildWorkload(events, 23);
  const dbs = await ledgerDatabases(postgres.adminUrl);
  const url = await dbs.fresh();
  await seedMerchantOrders(url, workload);
  const env = { DATABASE_URL: url, WECHATPAY_MERCHANTS: workload.merchantsJson };
  const normalizers = { stripe: stripeNormalizerFromEnv(env), wechatpay: wechatpayNormalizerFromEnv(env) };
  const sql = createSql({ url, max: 1, applicationName: 'payhooks-consumer' });
  const [{ pid }] = (await sql`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
  const ticks = () => parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).self;
  const stats = new Map<string, { n: number; ms: number; ticks: number; bytes: number }>();
  const samples = new Map<string, string>();
  let total = 0;
  const explainAt = Math.floor(events / batchSize / 2);
  for (let b = 0; b * batchSize < workload.bodies.length; b++) {
    const items = workload.bodies
      .slice(b * batchSize, (b + 1) * batchSize)
      .map((body, i) => ({ id: `${b}-${i}`, envelope: decodeEnvelope(body) }));
    const connection = await sql.reserve();
    let previous: Promise<unknown> = Promise.resolve();
    const timed = {
      unsafe: (text: string) => ({
        execute: () => {
          const run = (async () => {
            await previous.catch(() => undefined);
            const kind = kindOf(text);
            if (b === explainAt && !samples.has(kind)) samples.set(kind, text);
            const t0 = now();
            const k0 = ticks();
            const rows = await connection.unsafe(text);
            const s = stats.get(kind) ?? { n: 0, ms: 0, ticks: 0, bytes: 0 };
            s.n++;
            s.ms += now() - t0;
            s.ticks += ticks() - k0;
            s.bytes += Buffer.byteLength(text);
            stats.set(kind, s);
            return rows;
          })();
          previous = run;
          return run;
        },
      }),
      release: () => connection.release(),
    };
    const reserving = { reserve: async () => timed } as unknown as Sql;
    await commitEnvelopeBatch(reserving, items, (envelope) => normalizers[envelope.provider]);
    total += items.length;
  }
  console.log(`${total} messages in batches of ${batchSize}, one connection; per message:`);
  const sum = [...stats.values()].reduce((a, s) => ({ ms: a.ms + s.ms, ticks: a.ticks + s.ticks }), {
    ms: 0,
    ticks: 0,
  });
  console.log(
    `all statements: wall ${((sum.ms * 1000) / total).toFixed(1)} µs, backend CPU ${((sum.ticks * 10_000) / total).toFixed(1)} µs`,
  );
  for (const [kind, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(
      `${kind.padEnd(40)} ${String(s.n).padStart(5)}×  wall ${((s.ms * 1000) / total).toFixed(1).padStart(6)} µs  backend CPU ${((s.ticks * 10_000) / total).toFixed(1).padStart(6)} µs  text ${(s.bytes / total).toFixed(0).padStart(6)} B`,
    );
  }
  if (explain) {
    for (const [kind, text] of samples) {
      if (kind === 'begin' || kind === 'commit') continue;
      await sql
        .begin(async (tx) => {
          const planning: number[] = [];
          for (let i = 0; i < 7; i++) {
            const plan = (await tx.unsafe(`explain (summary, costs off) ${text}`)) as unknown as {
              'QUERY PLAN': string;
            }[];
            const line = plan.find((r) => r['QUERY PLAN'].startsWith('Planning Time'))!['QUERY PLAN'];
            planning.push(Number(/([\d.]+) ms/.exec(line)![1]));
          }
          planning.sort((a, b) => a - b);
          const plan = (await tx.unsafe(
            `explain (analyze, costs off, timing off, summary) ${text}`,
          )) as unknown as {
            'QUERY PLAN': string;
          }[];
          const exec = plan.find((r) => r['QUERY PLAN'].startsWith('Execution Time'))!['QUERY PLAN'];
          console.log(`${kind.padEnd(40)} planning ${planning[3]} ms (median of 7), ${exec}`);
          throw new Error('rollback');
        })
        .catch((error: Error) => {
          if (error.message !== 'rollback') throw error;
        });
    }
  }
  await sql.end();
  await dbs.dropAll();
} finally {
  await postgres.stop();
}
