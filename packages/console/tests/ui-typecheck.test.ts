// The pages run in a browser and are type-checked with DOM types of their own (src/ui/tsconfig.json), apart from
// the root program; this runs that check so `npm test` covers them, and bundles them as the runtime does.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildConsoleAssets } from '@payhooks/console/build';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('console pages', () => {
  it('type-check against the DOM types', async () => {
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    const run = promisify(execFile)(
      process.execPath,
      [tsc, '-p', 'packages/console/src/ui/tsconfig.json', '--noEmit'],
      {
        cwd: root,
      },
    );
    await expect(run.then(() => 'clean')).resolves.toBe('clean');
  });

  it('bundle into one JS and one CSS file with Preact inside (nothing fetched at run time)', async () => {
    const assets = await buildConsoleAssets();
    expect([...assets.keys()].sort()).toEqual(['app.css', 'app.js']);
    const js = assets.get('app.js')!.body.toString('utf8');
    expect(js).not.toMatch(/\bimport\s*["'(]|from\s*["']https?:/);
    expect(js.length).toBeLessThan(250_000);
  });
});
