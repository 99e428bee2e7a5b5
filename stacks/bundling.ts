// How every payhooks Lambda is bundled, in one place: the SST v2 `nodejs` props the functions ship with, and the
// esbuild options SST derives from them (sst/runtime/handlers/node.js, format esm), so bench case 4 bundles
// exactly what is deployed.
//
// Why: with format esm SST already bundles @aws-sdk/* (only nodejs16.x with cjs leaves the runtime's SDK
// external); minifying the bundle and dropping the source map is what brings a cold start near an empty process.
// Splitting keeps every `await import()` in a chunk of its own that is read only when that path runs (the SSM
// client behind sst/node/config, the SDK's SSO/STS/ini credential providers); without it esbuild inlines
// dynamic imports into the one file and every cold start evaluates them (docs/decisions.md "Cold start").
//
// The workspace packages' modules are bundled as side-effect free (the plugin below; their package.json files
// stay as they are): a module of packages/* is kept only when something it exports is used, so a barrel
// (`@payhooks/core/providers/stripe`) no longer drags its every module — and that module's dependencies
// (stripe-node behind the Stripe API client) — into a handler that uses one function of it. No module of
// packages/*/src is imported for its side effects alone (biome and review keep it so; bench case 4 and
// infra-tests/stacks.test.ts check what each handler loads).
import type { BuildOptions, Plugin } from 'esbuild';
import type { FunctionProps } from 'sst/constructs';

const WORKSPACE_SOURCE = /[\\/]packages[\\/][^\\/]+[\\/]src[\\/]/;
const RESOLVING = Symbol('payhooks-side-effect-free');

/** Marks every module under packages/<name>/src as side-effect free, as `"sideEffects": false` would. */
export const workspaceSideEffectFree: Plugin = {
  name: 'payhooks-workspace-side-effect-free',
  setup(build) {
    build.onResolve({ filter: /^(?:@payhooks\/|\.)/ }, async (args) => {
      // A package's own relative imports (thousands in the AWS SDK) are none of ours: answer at once, without a
      // second resolve, which made bundling several times slower.
      if (args.pluginData === RESOLVING || args.importer.includes('node_modules')) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: RESOLVING,
      });
      if (resolved.errors.length > 0 || !WORKSPACE_SOURCE.test(resolved.path)) return undefined;
      if (resolved.path.includes(`node_modules`)) return undefined;
      return { ...resolved, sideEffects: false };
    });
  },
};

export const FUNCTION_BUNDLING = {
  format: 'esm',
  minify: true,
  // SST's default in deploy mode is a linked source map: bigger artifact and nothing reads it at cold start.
  sourcemap: false,
  splitting: true,
  // SST v2 spreads these over its own options (sst/runtime/handlers/node.js).
  esbuild: { plugins: [workspaceSideEffectFree] },
} as const satisfies NonNullable<FunctionProps['nodejs']>;

/** The esbuild options SST v2 builds a handler with for FUNCTION_BUNDLING (mode deploy), one build per function. */
export function shippedEsbuildOptions(): BuildOptions {
  return {
    platform: 'node',
    bundle: true,
    keepNames: true,
    format: 'esm',
    target: 'esnext',
    mainFields: ['module', 'main'],
    external: ['sharp', 'pg-native'],
    minify: FUNCTION_BUNDLING.minify,
    sourcemap: FUNCTION_BUNDLING.sourcemap,
    // SST passes splitting through and then writes to an outdir with .mjs files (entry and chunks side by side).
    splitting: FUNCTION_BUNDLING.splitting,
    plugins: [...FUNCTION_BUNDLING.esbuild.plugins],
    outExtension: { '.js': '.mjs' },
    banner: {
      js: [
        `import { createRequire as topLevelCreateRequire } from 'module';`,
        'const require = topLevelCreateRequire(import.meta.url);',
        `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
        'const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))',
        '',
      ].join('\n'),
    },
  };
}
