// Builds the console's pages with the repository's esbuild into one JS and one CSS file, in memory: the local
// runtime calls it at start, the stack at synthesis (writeConsoleAssets into the static function's folder). Nothing
// is fetched at run time: Preact and htm are bundled.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type ConsoleAssets, contentTypeOf } from './assets.ts';

const UI = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ui');

export async function buildConsoleAssets(options: { minify?: boolean } = {}): Promise<ConsoleAssets> {
  const result = await build({
    entryPoints: { app: path.join(UI, 'main.ts'), 'app-style': path.join(UI, 'console.css') },
    bundle: true,
    write: false,
    outdir: '/console-assets',
    format: 'esm',
    target: ['es2020'],
    minify: options.minify ?? true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const assets: ConsoleAssets = new Map();
  for (const file of result.outputFiles) {
    const name = path.basename(file.path).replace(/^app-style\.css$/, 'app.css');
    assets.set(name, { body: Buffer.from(file.contents), contentType: contentTypeOf(name) });
  }
  return assets;
}

export { type ConsoleAssets, type ConsoleConfig, writeConsoleAssets } from './assets.ts';
