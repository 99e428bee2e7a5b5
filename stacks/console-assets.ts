// The console's page assets (one JS, one CSS) built at synthesis into the static function's bundle: an esbuild
// plugin on that function writes them beside the bundled handler (`console-assets/`, where
// packages/functions/src/wiring/console.ts reads them), so the deployed function serves exactly what this commit
// builds and nothing is fetched at run time. The build itself is the console package's (buildConsoleAssets), the
// one build the local runtime uses too — the single package module stacks may import (.dependency-cruiser.cjs).
import path from 'node:path';
import type { Plugin } from 'esbuild';
import { buildConsoleAssets, writeConsoleAssets } from '../packages/console/src/build.ts';

export const CONSOLE_ASSETS_FOLDER = 'console-assets';

export const consoleAssetsPlugin: Plugin = {
  name: 'payhooks-console-assets',
  setup(build) {
    build.onEnd(async (result) => {
      if (result.errors.length > 0) return;
      const outdir = build.initialOptions.outdir ?? path.dirname(build.initialOptions.outfile ?? '');
      if (!outdir) throw new Error('console assets: the static function has no output folder');
      await writeConsoleAssets(path.join(outdir, CONSOLE_ASSETS_FOLDER), await buildConsoleAssets());
    });
  },
};
