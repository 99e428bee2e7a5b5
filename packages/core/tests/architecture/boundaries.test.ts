// The import check (`npm run deps`, dependency-cruiser with .dependency-cruiser.cjs) must report every arrow the
// "may import" table of docs/architecture.md forbids. Cruises the miniature repository in ./fixture with the real
// configuration: each `forbidden-*` file must yield exactly its rule, and no `allowed-*` file any violation.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../../..');
const fixture = path.join(here, 'fixture');

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

function cruiseFixture(outputType: 'json' | 'err') {
  return spawnSync(
    process.execPath,
    [
      path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
      'packages',
      '--config',
      path.join(root, '.dependency-cruiser.cjs'),
      '--output-type',
      outputType,
    ],
    {
      cwd: fixture,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    },
  );
}

function violationsOf(): Violation[] {
  const result = cruiseFixture('json');
  if (!result.stdout) throw new Error(`dependency-cruiser printed nothing: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('the import check', () => {
  const violations = violationsOf();
  const found = violations.map((v) => `${v.rule.name}: ${v.from}`).sort();

  it('fails the build when anything is forbidden', () => {
    // The same reporter `npm run deps` uses: its exit status is what stops `npm test`.
    const run = cruiseFixture('err');
    expect(run.status).not.toBe(0);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips colour codes, should a terminal force them
    const text = run.stdout.replace(/\u001b\[[0-9;]*m/g, '');
    expect(text).toContain('error ledger-knows-no-provider');
    expect(violations.every((v) => v.rule.severity === 'error')).toBe(true);
  });

  it('reports each forbidden arrow under its rule', () => {
    expect(found).toEqual(
      [
        'cli-stage-commands-not-local: packages/cli/src/commands/forbidden-stage-local.ts',
        'core-libraries: packages/core/src/forbidden-aws.ts', // not on core's short list either
        'core-libraries: packages/core/src/forbidden-library.ts',
        'core-no-aws: packages/core/src/forbidden-aws.ts',
        'functions-imports-core-only: packages/functions/src/forbidden-local.ts',
        'ledger-knows-no-provider: packages/core/src/ledger/forbidden-provider.ts',
        'no-circular: packages/core/src/forbidden-cycle-a.ts', // a cycle is reported once
        'providers-apart-stripe: packages/core/src/recon/stripe/forbidden-other-provider.ts',
        'runtime-not-tests: packages/core/src/forbidden-test-import.ts',
      ].sort(),
    );
  });

  it('lets the allowed arrows through', () => {
    expect(violations.filter((v) => v.from.includes('/allowed-'))).toEqual([]);
  });
});
