// `npx tsx packages/bench/src/consumer-ab.ts <events> <rounds> <name>[:<sql>] …`: paired A/B of consumer variants
// that holds on a loaded machine. Every variant gets its own fresh migrated database (its SQL, if any, run on it
// first) and one consumer handler with one connection; batches of 100 (CONSUMER_AB_BATCH=<n> for another size) of
// case 3's workload are applied to all variants interleaved (batch 1 to A, batch 1 to B, batch 2 to A, …; the
// order alternates per round), so each variant sees the same machine load. Prints CPU per event of each variant's
// PostgreSQL backend (/proc ticks) and of the consumer process itself (process.cpuUsage), medians over the rounds.
// A variant named `X` is applied with PAYHOOKS_BENCH_VARIANT=X in the environment while it runs (for code switches
// under test). For deciding a change; the figures of record come from `npm run bench -- --case 3`.
import { readFileSync } from 'node:fs';
import { createSql } from '@payhooks/core/ledger';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import { createConsumerHandler } from '@payhooks/functions/consumer';
import { buildWorkload, seedMerchantOrders } from './cases/consumer.ts';
import { records } from './consumer/records.ts';
import { parseStat } from './e2e/proc-cpu.ts';
import { devNullLogger } from './fixtures.ts';
import { ledgerDatabases, startBenchPostgres } from './postgres.ts';
import { median } from './stats.ts';

const [eventsArg, roundsArg, ...specs] = process.argv.slice(2);
const events = Number(eventsArg ?? 4000);
const rounds = Number(roundsArg ?? 3);
const variants = specs.map((spec) => {
  const at = spec.indexOf(':');
  return at < 0 ? { name: spec, setup: '' } : { name: spec.slice(0, at), setup: spec.slice(at + 1) };
});
const BATCH = Number(process.env.CONSUMER_AB_BATCH ?? 100);

const postgres = await startBenchPostgres();
try {
  const workload = await buildWorkload(events, 23);
  const dbs = await ledgerDatabases(postgres.adminUrl);
  const results = new Map(variants.map((v) => [v.name, [] as { pg: number; process: number }[]]));
  for (let round = 0; round <= rounds; round++) {
    const sides = await Promise.all(
      variants.map(async (v) => {
        const url = await dbs.fresh();
        await seedMerchantOrders(url, workload);
        const sql = createSql({ url, max: 1, applicationName: 'payhooks-consumer' });
        if (v.setup) await sql.unsafe(v.setup);
        const handler = createConsumerHandler(
          { DATABASE_URL: url, WECHATPAY_MERCHANTS: workload.merchantsJson },
          { sql, metrics: new MemoryMetrics(), logger: devNullLogger('ab') },
        );
        const [{ pid }] = (await sql`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
        return { v, url, sql, handler, pid, ticks: 0, micros: 0 };
      }),
    );
    const all = records(workload.bodies, `r${round}`);
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (let b = 0; b * BATCH < all.length; b++) {
      const batch = all.slice(b * BATCH, (b + 1) * BATCH);
      for (const side of order) {
        process.env.PAYHOOKS_BENCH_VARIANT = side.v.name;
        const k0 = parseStat(readFileSync(`/proc/${side.pid}/stat`, 'utf8')).self;
        const c0 = process.cpuUsage();
        const result = await side.handler({ Records: batch });
        const c = process.cpuUsage(c0);
        side.ticks += parseStat(readFileSync(`/proc/${side.pid}/stat`, 'utf8')).self - k0;
        side.micros += c.user + c.system;
        if (result.batchItemFailures.length > 0) throw new Error(`${side.v.name}: failed items`);
      }
    }
    for (const side of sides) {
      // Round 0 warms up (JIT, connections): not counted.
      if (round > 0)
        results.get(side.v.name)!.push({
          pg: (side.ticks * 10_000) / all.length,
          process: side.micros / all.length,
        });
      await side.sql.end();
      await dbs.drop(side.url);
    }
  }
  for (const [name, rs] of results) {
    console.log(
      `${name.padEnd(14)} PostgreSQL ${median(rs.map((r) => r.pg))
        .toFixed(1)
        .padStart(6)} µs  process ${median(rs.map((r) => r.process))
        .toFixed(1)
        .padStart(6)} µs   rounds: ${rs.map((r) => `${r.pg.toFixed(0)}/${r.process.toFixed(0)}`).join(' ')}`,
    );
  }
  await dbs.dropAll();
} finally {
  await postgres.stop();
}
