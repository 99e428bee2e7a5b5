// Checks before anything runs: `npm start` (node + tsx, a child process, as an operator runs it) with bad options
// or a bad configuration prints one line per problem naming the option, variable or file — no stack trace — exits
// 1, and has started nothing (no Postgres folder, no local.json).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseStartOptions } from '../src/start-options.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'payhooks-preflight-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

function start(env: Record<string, string>, ...args: string[]) {
  const { DATABASE_URL, WECHATPAY_MERCHANTS_FILE, STRIPE_WEBHOOK_SECRETS, STRIPE_LIVEMODE, ...base } =
    process.env;
  const result = spawnSync(
    process.execPath,
    ['--disable-warning=NodeVersionSupportWarning', '--import', 'tsx', main, '--exit', ...args],
    { env: { ...base, PAYHOOKS_STATE_DIR: stateDir, PORT: '0', ...env }, encoding: 'utf8', timeout: 60_000 },
  );
  return {
    status: result.status,
    lines: result.stderr.split('\n').filter((line) => line.trim() !== ''),
    stderr: result.stderr,
  };
}

function nothingStarted() {
  expect(existsSync(path.join(stateDir, 'pgdata'))).toBe(false);
  expect(existsSync(path.join(stateDir, 'local.json'))).toBe(false);
  expect(existsSync(path.join(stateDir, 'payhooks.lock'))).toBe(false);
}

describe('npm start checks its configuration before anything runs', () => {
  it('names every problem: malformed merchants file, endpoint secret, STRIPE_LIVEMODE, unreachable DATABASE_URL', async () => {
    const merchants = path.join(stateDir, 'merchants.json');
    await writeFile(merchants, '{"merchants": [');
    const { status, lines, stderr } = start({
      WECHATPAY_MERCHANTS_FILE: merchants,
      STRIPE_WEBHOOK_SECRETS: 'whsec_abcdefghijkl,sk_test_notasecret',
      STRIPE_LIVEMODE: 'yes',
      DATABASE_URL: 'postgres://payhooks:hunter2@127.0.0.1:9/payhooks',
    });
    expect(status).toBe(1);
    expect(lines).toEqual([
      'CONFIG_INVALID: STRIPE_LIVEMODE must be true or false, got "yes"',
      expect.stringMatching(/^CONFIG_INVALID: STRIPE_WEBHOOK_SECRETS item 2 of 2 is not an endpoint secret/),
      `CONFIG_INVALID: WECHATPAY_MERCHANTS_FILE ${merchants}: WeChat Pay merchant configuration: not valid JSON`,
      'CONFIG_INVALID: DATABASE_URL (127.0.0.1:9/payhooks): nothing accepts connections there',
    ]);
    expect(stderr).not.toContain('hunter2');
    expect(stderr).not.toContain('sk_test_notasecret');
    expect(stderr).not.toMatch(/^\s+at /m);
    nothingStarted();
  });

  it('a missing merchants file and a busy Postgres port are one line each', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const missing = path.join(stateDir, 'nowhere.json');
      const { status, lines } = start({ WECHATPAY_MERCHANTS_FILE: missing, PAYHOOKS_PG_PORT: String(port) });
      expect(status).toBe(1);
      expect(lines).toEqual([
        `CONFIG_INVALID: WECHATPAY_MERCHANTS_FILE ${missing}: cannot be read`,
        `CONFIG_INVALID: PAYHOOKS_PG_PORT ${port} is in use by another program: stop it or set PAYHOOKS_PG_PORT to a free port`,
      ]);
      nothingStarted();
    } finally {
      busy.close();
    }
  });

  it('validates its options first: --wechatpay-payments 2 is refused before the stack starts', () => {
    const { status, lines } = start({}, '--wechatpay-payments', '2');
    expect(status).toBe(1);
    expect(lines).toEqual(['LOCAL_USAGE: --wechatpay-payments must be between 12 and 5000, got 2']);
    nothingStarted();
  });
});

describe('parseStartOptions', () => {
  it('accepts the defaults and refuses unknown options and non-numbers, each named', () => {
    expect(parseStartOptions([])).toEqual({
      ok: true,
      options: { exit: false, serve: false, payments: 40, wechatpayPayments: 24, seed: undefined },
    });
    expect(parseStartOptions(['--serve'])).toMatchObject({ ok: true, options: { serve: true, exit: false } });
    const both = parseStartOptions(['--serve', '--exit']);
    expect(both.ok ? [] : both.problems).toEqual([
      '--serve keeps the stack running until Ctrl-C; --exit stops after the demo: pass one of them',
    ]);
    expect(parseStartOptions(['--payments', 'ten', '--seed', '-1'])).toMatchObject({ ok: false });
    const parsed = parseStartOptions(['--payments', 'ten', '--seed', '1.5']);
    expect(parsed.ok ? [] : parsed.problems).toEqual([
      '--payments must be a whole number, got "ten"',
      '--seed must be a whole number, got "1.5"',
    ]);
    const unknown = parseStartOptions(['--paymets', '3']);
    expect(unknown.ok ? '' : unknown.problems[0]).toMatch(/^Unknown option '--paymets'/);
  });
});
