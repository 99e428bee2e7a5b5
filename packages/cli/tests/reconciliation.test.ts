// `recon list` and `recon download` against a reports folder (REPORTS_DIR), through commander like the bin.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createFolderStore } from '@payhooks/local/folder-store';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerRecon } from '../src/commands/reconciliation.ts';
import { createContext } from '../src/context.ts';
import { awsStagePorts } from '../src/target.ts';

let dir: string;
const saved = { ...process.env };
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'payhooks-cli-recon-'));
  process.env.REPORTS_DIR = path.join(dir, 'reports');
  delete process.env.REPORTS_BUCKET;
});
afterEach(async () => {
  process.env = { ...saved };
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<string> {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...values: unknown[]) => {
    out.push(values.join(' '));
  });
  const program = new Command('payhooks').exitOverride();
  registerRecon(program, createContext(awsStagePorts));
  await program.parseAsync(['node', 'payhooks', ...args]);
  return out.join('\n');
}

describe('payhooks recon list / download', () => {
  it('lists the current reports and downloads one report’s three files', async () => {
    const store = createFolderStore(process.env.REPORTS_DIR!);
    const files = {
      'summary.json': 'stripe/platform/2025-03-01/runs/r9/summary.json',
      'breaks.csv': 'stripe/platform/2025-03-01/runs/r9/breaks.csv',
      'matched.csv': 'stripe/platform/2025-03-01/runs/r9/matched.csv',
    };
    for (const [name, key] of Object.entries(files)) await store.put(key, `content of ${name}`, 'text/plain');
    await store.put(
      'stripe/platform/2025-03-01/latest.json',
      JSON.stringify({
        provider: 'stripe',
        account: '',
        businessDate: '2025-03-01',
        runId: 'r9',
        unhealedBreaks: 2,
        counts: { matched: 4 },
        files,
      }),
      'application/json',
    );
    const listed = await run('recon', 'list');
    expect(listed).toContain('1 report(s)');
    expect(listed).toContain('stripe  platform  2025-03-01  run r9  unhealed 2');

    await run('recon', 'download', 'stripe', 'platform', '2025-03-01', '--to', dir);
    const target = path.join(dir, 'stripe-platform-2025-03-01');
    expect(await readFile(path.join(target, 'breaks.csv'), 'utf8')).toBe('content of breaks.csv');
    expect(await readFile(path.join(target, 'summary.json'), 'utf8')).toBe('content of summary.json');
    await expect(run('recon', 'download', 'stripe', 'platform', '2025-03-02')).rejects.toThrow(/no report/);
  });

  it('recon run refuses a business date in the future with one clear line, before touching anything', async () => {
    await expect(run('recon', 'run', '--provider', 'wechatpay', '--date', '2999-01-01')).rejects.toThrow(
      /business date 2999-01-01 is in the future/,
    );
    await expect(run('recon', 'run', '--provider', 'stripe', '--date', '2999-01-01')).rejects.toMatchObject({
      code: 'RECON_FUTURE_DATE',
    });
  });
});
