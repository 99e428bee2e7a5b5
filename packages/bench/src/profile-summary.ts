// The summary the profile tools print (consumer-profile.ts, ingress-profile.ts): self time of a V8 CPU profile by
// module (an npm package, or a path under packages/) and by function, as shares of the sampled time.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** The parts of a `Profiler.stop` answer the summary reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

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

/** Prints the top `modules` modules and the top `functions` functions by self time. */
export function printSelfTime(profile: CpuProfile, top: { modules: number; functions: number }): void {
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
  const lines = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  console.log(
    `self time by module (of ${(total / 1e3).toFixed(0)} ms sampled):\n${lines(modules, top.modules)}`,
  );
  console.log(`\nself time by function:\n${lines(functions, top.functions)}`);
}
