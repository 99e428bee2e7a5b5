// Case 4 — cold start: every Lambda handler in packages/functions/src bundled the way it would ship (esbuild:
// platform node, format esm, target node20, bundle, minify, @aws-sdk/* external because the Lambda Node.js 20
// runtime provides SDK v3 — SST v2's default — plus SST's createRequire banner for CommonJS dependencies), then
// the wall time of a fresh `node` process that imports the bundle and initialises the handler, against a fresh
// `node -e ""`. The webhook handlers also run one (rejected, offline) invocation, which executes their
// per-container setup (configuration, secrets, SQS client, WeChat Pay key parsing); the others only import.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { wechatpayTraffic } from '../fixtures.ts';
import { pick } from '../sizes.ts';
import { now, pairedRow, ratioAtMost } from '../stats.ts';
import type { CaseOptions, CaseResult } from '../types.ts';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const FUNCTIONS = path.join(REPO, 'packages/functions/src');

/** Entry points: top-level modules that export `handler`. */
export function handlerEntries(): string[] {
  return readdirSync(FUNCTIONS)
    .filter((name) => name.endsWith('.ts'))
    .filter((name) => /export const handler\b/.test(readFileSync(path.join(FUNCTIONS, name), 'utf8')))
    .sort();
}

const PROBES: Record<string, string> = {
  // An unsigned request: the handler runs its once() setup, then answers 400 without any network.
  'stripe-webhook': `const r = await m.handler({ version: '2.0', rawPath: '/webhooks/stripe', headers: {}, body: '{}', isBase64Encoded: false, requestContext: { requestId: 'probe', http: { method: 'POST' } } }); if (r.statusCode !== 400) throw new Error('probe answered ' + r.statusCode);`,
  'wechatpay-webhook': `const r = await m.handler({ version: '2.0', rawPath: '/webhooks/wechatpay', headers: {}, body: '{}', isBase64Encoded: false, requestContext: { requestId: 'probe', http: { method: 'POST' } } }); if (r.statusCode < 400 || r.statusCode >= 500) throw new Error('probe answered ' + r.statusCode);`,
};

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'silent',
    ...extra,
  };
  return env; // no NODE_OPTIONS: tsx or vitest loaders must not leak into the measured process
}

function timeProcess(args: string[], env: NodeJS.ProcessEnv, cwd: string): number {
  const started = now();
  const result = spawnSync(process.execPath, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = now() - started;
  if (result.status !== 0)
    throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr.toString().slice(0, 500)}`);
  return elapsed;
}

export async function runColdStart(options: CaseOptions): Promise<CaseResult> {
  const started = now();
  const size = pick(options, { full: { reps: 10 }, quick: { reps: 5 }, tiny: { reps: 1 } });
  const entries = handlerEntries();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-bench-bundles-'));
  try {
    // The external @aws-sdk/* packages resolve from the repository's node_modules, as from the runtime's in Lambda.
    await symlink(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    options.log(`case 4: bundling ${entries.length} handlers with esbuild`);
    const buildStarted = now();
    await build({
      entryPoints: entries.map((name) => path.join(FUNCTIONS, name)),
      outdir: dir,
      outExtension: { '.js': '.mjs' },
      platform: 'node',
      format: 'esm',
      target: 'node20',
      bundle: true,
      minify: true,
      sourcemap: false,
      external: ['@aws-sdk/*'],
      banner: {
        js: "import { createRequire as __bench_createRequire } from 'module'; const require = __bench_createRequire(import.meta.url);",
      },
      logLevel: 'error',
    });
    const buildMs = now() - buildStarted;
    const wechat = await wechatpayTraffic(1);
    const env = childEnv({
      AWS_REGION: 'us-east-1',
      QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/bench',
      STRIPE_WEBHOOK_SECRETS: 'whsec_bench',
      WECHATPAY_MERCHANTS: wechat.merchantsJson,
    });
    const handlers = entries.map((name) => {
      const base = name.replace(/\.ts$/, '');
      const file = path.join(dir, `${base}.mjs`);
      const bytes = readFileSync(file);
      const probe = PROBES[base] ?? '';
      const script = `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); if (typeof m.handler !== 'function') throw new Error('no handler'); ${probe}`;
      // The @aws-sdk/* packages the bundle leaves to the runtime: timed alone, they show the SDK's share.
      const externals = [
        ...new Set([...bytes.toString('utf8').matchAll(/from"(@aws-sdk\/[^"]+)"/g)].map((m) => m[1]!)),
      ].sort();
      const sdkScript = externals.map((name) => `await import(${JSON.stringify(name)});`).join(' ');
      return {
        base,
        file,
        bytes: statSync(file).size,
        gzipBytes: gzipSync(bytes).length,
        probe: probe !== '',
        externals,
        args: ['--input-type=module', '-e', script],
        sdkArgs: ['--input-type=module', '-e', sdkScript],
      };
    });
    const empty = ['-e', ''];
    // Warm-up: the OS page cache holds node, the bundles and the SDK files before anything is timed.
    if (!options.tiny) {
      timeProcess(empty, env, dir);
      for (const h of handlers) timeProcess(h.args, env, dir);
    }
    const pairs = new Map<string, { measured: number; baseline: number }[]>(
      handlers.map((h) => [h.base, []]),
    );
    for (let r = 0; r < size.reps; r++) {
      for (const h of handlers) {
        const first = r % 2 === 0;
        const a = timeProcess(first ? empty : h.args, env, dir);
        const b = timeProcess(first ? h.args : empty, env, dir);
        pairs.get(h.base)!.push(first ? { measured: b, baseline: a } : { measured: a, baseline: b });
      }
    }
    // Where the time goes: a fresh process importing only the external SDK packages of each bundle.
    const sdkOnly = new Map<string, number[]>(handlers.map((h) => [h.base, []]));
    for (let r = 0; r < (options.tiny ? 0 : Math.min(size.reps, 5)); r++) {
      for (const h of handlers)
        if (h.externals.length > 0) sdkOnly.get(h.base)!.push(timeProcess(h.sdkArgs, env, dir));
    }
    const medianOf = (values: number[]) =>
      values.length === 0 ? null : values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    return {
      case: 4,
      title: 'Cold start of the bundled handlers',
      measuredIncludes:
        'wall time of a fresh `node --input-type=module -e "await import(bundle) …"` process: start, load and evaluate ' +
        'the minified ESM bundle (+ the external @aws-sdk/* modules it imports), handler present; stripe-webhook and ' +
        'wechatpay-webhook also run one rejected invocation (their per-container setup). Process exit included.',
      baselineIncludes:
        'wall time of a fresh `node -e ""` process on the same machine, paired per repetition.',
      rows: handlers.map((h) =>
        pairedRow(
          `4 ${h.base}${h.probe ? ' (import+setup)' : ''}`,
          'ms',
          pairs.get(h.base)!,
          ratioAtMost(1.5),
          `bundle ${(h.bytes / 1024).toFixed(0)} KiB (${(h.gzipBytes / 1024).toFixed(0)} KiB gzip)`,
        ),
      ),
      details: {
        reps: size.reps,
        esbuild: {
          version: (await import('esbuild')).version,
          buildMs,
          options:
            'platform node, format esm, target node20, bundle, minify, external @aws-sdk/*, createRequire banner',
        },
        bundles: Object.fromEntries(
          handlers.map((h) => [
            h.base,
            {
              bytes: h.bytes,
              gzipBytes: h.gzipBytes,
              setupInvoked: h.probe,
              externalSdkPackages: h.externals,
              sdkOnlyProcessMs: medianOf(sdkOnly.get(h.base)!),
            },
          ]),
        ),
      },
      durationMs: now() - started,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
