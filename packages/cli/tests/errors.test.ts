// The bin as an operator runs it (node + tsx, a child process): an error thrown on purpose is one line on stderr
// with its stable code, no stack trace, and a non-zero exit.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let stateDir: string;
beforeEach(async () => {
  // An empty state folder: no local stack is running, so nothing is targeted unless the test says so.
  stateDir = await mkdtemp(path.join(tmpdir(), 'payhooks-cli-errors-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const { DATABASE_URL, QUEUE_URL, DLQ_URL, REPORTS_BUCKET, ...env } = process.env;
  const result = spawnSync(
    process.execPath,
    ['--disable-warning=NodeVersionSupportWarning', '--import', 'tsx', main, ...args],
    { env: { ...env, PAYHOOKS_STATE_DIR: stateDir }, encoding: 'utf8', timeout: 30_000 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

describe('payhooks CLI errors', () => {
  it('a usage error (recon run --provider nope) is one line naming the problem, no stack, exit 1', () => {
    const { status, stdout, stderr } = cli('recon', 'run', '--provider', 'nope');
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(lines(stderr)).toEqual(['CLI_USAGE: --provider must be wechatpay or stripe']);
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('a missing target (dlq list with no local stack and no QUEUE_URL) is one line with its code', () => {
    const { status, stderr } = cli('dlq', 'list');
    expect(status).toBe(1);
    expect(lines(stderr)).toEqual([
      'CLI_NO_TARGET: no target: start the local stack (npm start), pass --stage NAME, or set QUEUE_URL and DLQ_URL',
    ]);
  });
});
