// `npx tsx packages/bench/src/consumer-claim-forms.ts [batches]`: what PostgreSQL spends on the inbox claim's
// text, by how the raw bodies travel: ARRAY[$v$…$v$] (the shipped form), one escaped array literal, or bound
// parameters. Each form runs the same claim of 100 ≈ 900-byte JSON bodies in rolled-back transactions on one
// connection (begin and rollback included; `select 1` in their place is the overhead); prints the backend's CPU
// per row (/proc ticks). Where the forms cost about the same, the claim's cost is the insert (heap, six indexes,
// WAL), not the lexing of its text. Not a benchmark figure.
import { readFileSync } from 'node:fs';
import { arrayLiteral, arrayOfLiterals, createSql } from '@payhooks/core/ledger';
import { parseStat } from './e2e/proc-cpu.ts';
import { ledgerDatabases, startBenchPostgres } from './postgres.ts';

const batches = Number(process.argv[2] ?? 200);
const postgres = await startBenchPostgres();
try {
  const dbs = await ledgerDatabases(postgres.adminUrl);
  const url = await dbs.fresh();
  const sql = createSql({ url, max: 1 });
  const [{ pid }] = (await sql`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
  const rows = Array.from({ length: 100 }, (_, i) => ({
    id: `evt_${i.toString().padStart(20, '0')}`,
    body: JSON.stringify({
      id: `evt_${i}`,
      object: 'event',
      type: 'payment_intent.succeeded',
      data: {
        object: { id: `pi_${i}`, amount: 1234, metadata: { order_id: `o-${i}` }, note: 'x'.repeat(650) },
      },
    }),
  }));
  const head = `insert into inbox_events (provider, event_id, event_type, account, occurred_at, received_at, outcome,
    api_version, raw_payload) select 'stripe', event_id, 't', '', now(), now(), 'stored', null, raw_payload from unnest(`;
  const tail = `) as u(event_id, raw_payload) on conflict do nothing returning provider, event_id`;
  const ids = rows.map((r) => r.id);
  const bodies = rows.map((r) => r.body);
  const forms: Record<string, () => Promise<unknown>> = {
    // What begin + rollback and one round trip cost alone, to subtract.
    'select 1 (overhead)': () => sql.unsafe('select 1'),
    'ARRAY[$v$…$v$]': () =>
      sql.unsafe(`${head}${arrayLiteral(ids, 'text')}, ${arrayOfLiterals(bodies, 'text')}${tail}`),
    'escaped {…} literal': () =>
      sql.unsafe(`${head}${arrayLiteral(ids, 'text')}, ${arrayLiteral(bodies, 'text')}${tail}`),
    'bound $1, $2': () => sql.unsafe(`${head}$1::text[], $2::text[]${tail}`, [ids, bodies] as never),
  };
  const ticks = () => parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).self;
  // Each form inside a transaction that is rolled back, so every batch claims the same rows afresh.
  const repeat = async (run: () => Promise<unknown>, times: number) => {
    for (let i = 0; i < times; i++) {
      await sql.unsafe('begin');
      await run();
      await sql.unsafe('rollback');
    }
  };
  for (const [name, run] of Object.entries(forms)) {
    await repeat(run, 20); // warm-up
    const t0 = ticks();
    await repeat(run, batches);
    const cpu = ((ticks() - t0) * 10_000) / (batches * 100);
    console.log(`${name.padEnd(22)} backend CPU ${cpu.toFixed(1)} µs per row`);
  }
  await sql.end();
} finally {
  await postgres.stop();
}
