// `npx tsx packages/bench/src/consumer-profile.ts [events] [connections] [out.cpuprofile]`: a V8 CPU profile of the
// consumer loop only (case 3's measured side: createConsumerHandler on `connections` one-connection clients,
// batches of 500), taken with node:inspector around that loop after CONSUMER_PROFILE_WARM_RUNS (default 6) warm-up
// runs, and a summary of self time by module and by function — the profile to read before and after a change to
// the consumer's hot path. Not a benchmark figure: the numbers that count come from `npm run bench -- --case 3`.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { buildWorkload, consumerRun, seedMerchantOrders } from './cases/consumer.ts';
import { ledgerDatabases, startBenchPostgres } from './postgres.ts';
import { type CpuProfile, printSelfTime } from './profile-summary.ts';

const [events = 4000, connections = 4] = process.argv.slice(2, 4).map(Number);
const out = process.argv[4];

const postgres = await startBenchPostgres();
try {
  const workload = await buildWorkload(events, 23);
  const dbs = await ledgerDatabases(postgres.adminUrl);
  const env = { WECHATPAY_MERCHANTS: workload.merchantsJson };
  const fresh = async () => {
    const url = await dbs.fresh();
    await seedMerchantOrders(url, workload);
    return url;
  };
  // Warm to steady state first (docs/decisions.md, "Case 3 measures warm containers").
  for (let w = 0; w < Number(process.env.CONSUMER_PROFILE_WARM_RUNS ?? 6); w++)
    await consumerRun(await fresh(), workload, connections, env, `warm${w}`);
  const url = await fresh();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const run = await consumerRun(url, workload, connections, env, 'profiled');
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  console.log(
    `${events} messages, ${connections} connections: ${Math.round(run.eventsPerSecond)} events/s, CPU per event: process ${Math.round(run.processMicrosPerEvent)} µs, PostgreSQL ${Math.round(run.postgresMicrosPerEvent ?? 0)} µs\n`,
  );
  if (out) writeFileSync(out, JSON.stringify(profile));
  printSelfTime(profile as unknown as CpuProfile, { modules: 25, functions: 40 });
  await dbs.dropAll();
} finally {
  await postgres.stop();
}
