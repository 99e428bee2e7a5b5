// The bin as an operator runs it (node + tsx, a child process, no warning flags): `--version`, `--json` data on
// stdout, and no AWS SDK Node-version notice on stderr although the command constructs SDK clients.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LocalQueues, startLocalQueues } from '@payhooks/local/sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let stateDir: string;
let queues: LocalQueues;
beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), 'payhooks-cli-bin-'));
  // In a child process: the CLI child talks to it while this process waits.
  queues = await startLocalQueues({ visibilityTimeoutSeconds: 1, maxReceiveCount: 1, inChildProcess: true });
});
afterAll(async () => {
  await queues?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

function cli(env: NodeJS.ProcessEnv, ...args: string[]) {
  const {
    DATABASE_URL,
    QUEUE_URL,
    DLQ_URL,
    REPORTS_BUCKET,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED,
    NODE_OPTIONS,
    ...rest
  } = process.env;
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
      env: { ...rest, PAYHOOKS_STATE_DIR: stateDir, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('payhooks bin', () => {
  it('--version prints the package version', async () => {
    const { status, stdout } = await cli({}, '--version');
    expect(status).toBe(0);
    expect(stdout.trim()).toBe('0.1.0');
  });

  it('dlq list --json prints JSON and no SDK Node-version warning', async () => {
    const { status, stdout, stderr } = await cli(
      {
        QUEUE_URL: queues.queueUrl,
        DLQ_URL: queues.dlqUrl,
        SQS_ENDPOINT: queues.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      },
      'dlq',
      'list',
      '--json',
    );
    expect(stderr).not.toMatch(/NodeVersionSupportWarning|AWS SDK for JavaScript/);
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual([]);
  });
});
