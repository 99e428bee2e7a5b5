// `payhooks doctor` and the CLI's view of local.json, run as an operator runs the bin (node + tsx, a child
// process): one line per problem naming the variable or file, exit 1 on any; --json for scripts; a stale or
// malformed local.json is named instead of a refused connection or a JSON stack trace.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_PG_ENV } from '@payhooks/testkit/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addDoctorCheck, doctorChecks } from '../src/doctor/checks.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'payhooks-doctor-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

function cli(env: Record<string, string>, ...args: string[]) {
  const {
    DATABASE_URL,
    QUEUE_URL,
    DLQ_URL,
    REPORTS_BUCKET,
    WECHATPAY_MERCHANTS_FILE,
    STRIPE_LIVEMODE,
    ...base
  } = process.env;
  const result = spawnSync(
    process.execPath,
    ['--disable-warning=NodeVersionSupportWarning', '--import', 'tsx', main, ...args],
    { env: { ...base, PAYHOOKS_STATE_DIR: stateDir, PORT: '0', ...env }, encoding: 'utf8', timeout: 60_000 },
  );
  const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');
  return {
    status: result.status,
    out: lines(result.stdout),
    err: lines(result.stderr),
    stdout: result.stdout,
  };
}

describe('payhooks doctor', () => {
  it('passes on a sound configuration (the test database as DATABASE_URL)', () => {
    const { status, out, err } = cli({ DATABASE_URL: process.env[TEST_PG_ENV]! }, 'doctor');
    expect(err).toEqual([]);
    expect(out).toEqual([expect.stringMatching(/^doctor: \d+ checks passed \(local\)$/)]);
    expect(status).toBe(0);
  });

  it('prints one line per problem, each naming its variable or file, and exits 1', async () => {
    const merchants = path.join(stateDir, 'merchants.json');
    await writeFile(merchants, '{"merchants": []}');
    const { status, err } = cli(
      {
        STRIPE_LIVEMODE: 'maybe',
        STRIPE_WEBHOOK_SECRETS: 'whsec_',
        WECHATPAY_MERCHANTS_FILE: merchants,
        DATABASE_URL: 'mysql://root:hunter2@127.0.0.1/x',
      },
      'doctor',
    );
    expect(status).toBe(1);
    expect(err).toEqual([
      'STRIPE_LIVEMODE must be true or false, got "maybe"',
      expect.stringMatching(/^STRIPE_WEBHOOK_SECRETS is not an endpoint secret/),
      'DATABASE_URL must start with postgres:// or postgresql://, not mysql://',
      expect.stringMatching(new RegExp(`^WECHATPAY_MERCHANTS_FILE ${merchants}: `)),
    ]);
    expect(err.join('\n')).not.toContain('hunter2');
  });

  it('--json gives the checks run and the problems, and still exits 1', async () => {
    await writeFile(path.join(stateDir, 'local.json'), '{"queueUrl": ');
    const { status, stdout } = cli({}, 'doctor', '--json');
    expect(status).toBe(1);
    const report = JSON.parse(stdout) as {
      ok: boolean;
      target: string;
      checks: string[];
      problems: unknown[];
    };
    expect(report.ok).toBe(false);
    expect(report.target).toBe('local');
    expect(report.checks).toEqual(
      expect.arrayContaining(['environment', 'wechatpay-merchants', 'local-json']),
    );
    expect(report.problems).toEqual([
      {
        check: 'local-json',
        subject: path.join(stateDir, 'local.json'),
        message: `${path.join(stateDir, 'local.json')} is not valid JSON: delete it and run npm start again`,
      },
    ]);
  });

  it('is a list others append to, per target', () => {
    const before = doctorChecks('stage').map((check) => check.name);
    addDoctorCheck({ name: 'appended-for-test', targets: ['stage'], run: async () => [] });
    expect(doctorChecks('stage').map((check) => check.name)).toEqual([...before, 'appended-for-test']);
    expect(doctorChecks('local').map((check) => check.name)).not.toContain('appended-for-test');
  });
});

describe('the CLI and local.json', () => {
  it('a local.json left by a stack that no longer runs is named as stale, one line, exit 1', async () => {
    const file = path.join(stateDir, 'local.json');
    await writeFile(
      file,
      JSON.stringify({
        queueUrl: 'http://127.0.0.1:9/000000000000/payhooks-events',
        dlqUrl: 'http://127.0.0.1:9/000000000000/payhooks-events-dlq',
        sqsEndpoint: 'http://127.0.0.1:9',
        databaseUrl: 'postgres://postgres:x@127.0.0.1:9/payhooks',
      }),
    );
    const { status, err } = cli({}, 'dlq', 'list');
    expect(status).toBe(1);
    expect(err).toEqual([
      `CLI_STALE_LOCAL_JSON: ${file} is stale: no local stack runs on ${stateDir} (start one with npm start, or delete the file)`,
    ]);
  });

  it('a malformed local.json is one line, not a JSON stack trace', async () => {
    const file = path.join(stateDir, 'local.json');
    await writeFile(file, '{');
    const { status, err } = cli({}, 'recon', 'list');
    expect(status).toBe(1);
    expect(err).toEqual([`CLI_BAD_LOCAL_JSON: ${file} is not valid JSON: delete it and run npm start again`]);
  });
});
