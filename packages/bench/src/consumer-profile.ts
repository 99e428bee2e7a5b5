// `npx tsx packages/bench/src/consumer-profile.ts [events] [connections] [out.cpuprofile]`: a V8 CPU profile of the
// consumer loop only (case 3's measured side: createConsumerHandler on `connections` one-connection clients,
// batches of 100), taken with node:inspector around that loop, and a summary of self time by module and by
// function — the profile to read before and after a change to the consumer's hot path. Not a benchmark figure:
// the numbers that count come from `npm run bench -- --case 3`.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { buildWorkload, consumerRun, seedMerchantOrders } from './cases/consumer.ts';
import { ledgerDatabases, startBenchPostgres } from './postgres.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [events = 4000, connections = 4] = process.argv.slice(2, 4).map(Number);
const out = process.argv[4];

function moduleOf(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const pk = url.indexOf('/packages/');
  return pk >= 0 ? url.slice(pk + 1) : url.replace(/^.*\//, '');
}

function summarize(profile: Profile): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const modules = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    const mod = moduleOf(frame.url);
    modules.set(mod, (modules.get(mod) ?? 0) + us);
    const fn = `${frame.functionName || '(anonymous)'} ${mod}:${frame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  console.log(`self time by module (of ${(total / 1e3).toFixed(0)} ms sampled):\n${top(modules, 25)}`);
  console.log(`\nself time by function:\n${top(functions, 40)}`);
}

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
  await consumerRun(await fresh(), workload, connections, env, 'warm');
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
  summarize(profile as unknown as Profile);
  await dbs.dropAll();
} finally {
  await postgres.stop();
}
