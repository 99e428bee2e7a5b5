// How every payhooks Lambda is bundled, in one place: the SST v2 `nodejs` props the functions ship with, and the
// esbuild options SST derives from them (sst/runtime/handlers/node.js, format esm), so bench case 4 bundles
// exactly what is deployed.
//
// Why: with format esm SST already bundles @aws-sdk/* (only nodejs16.x with cjs leaves the runtime's SDK
// external); minifying the bundle and dropping the source map is what brings a cold start near an empty process.
// Splitting keeps every `await import()` in a chunk of its own that is read only when that path runs (the SSM
// client behind sst/node/config, the SDK's SSO/STS/ini credential providers); without it esbuild inlines
// dynamic imports into the one file and every cold start evaluates them (docs/decisions.md "Cold start").
import type { BuildOptions } from 'esbuild';
import type { FunctionProps } from 'sst/constructs';

export const FUNCTION_BUNDLING = {
  format: 'esm',
  minify: true,
  // SST's default in deploy mode is a linked source map: bigger artifact and nothing reads it at cold start.
  sourcemap: false,
  splitting: true,
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
