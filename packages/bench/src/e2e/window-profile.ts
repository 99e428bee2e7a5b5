// `PAYHOOKS_BENCH_CPU_PROF_DIR=dir`: a V8 CPU profile of the bench process over one measured window only (case 7's
// payhooks side), written as `<label>.cpuprofile`; children profile themselves with PAYHOOKS_CHILD_CPU_PROF_DIR.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

export async function profileWindow(label: string): Promise<() => Promise<void>> {
  const dir = process.env.PAYHOOKS_BENCH_CPU_PROF_DIR;
  if (!dir) return async () => {};
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(path.join(dir, `${label}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}
