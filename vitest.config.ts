import { configDefaults, defineConfig } from 'vitest/config';

// Projects, by folder: `unit` is packages/core/tests except its ledger/ and recon/ folders (domain logic that
// needs no database, so no embedded Postgres is started for it); `db` is every other packages/*/tests file
// (started with one embedded Postgres); `infra` is infra-tests. Each file is in exactly one project.
const DB_FOLDERS_IN_CORE = ['packages/core/tests/ledger/**', 'packages/core/tests/recon/**'];
const TEST_FILES = 'packages/*/tests/**/*.test.ts';

export default defineConfig({
  test: {
    // Two files at a time: vitest's default on 2 cores is one worker (cores − 1), but these tests spend most of
    // their time waiting on child processes (PostgreSQL, the queue service, consumer containers, Chromium).
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/core/tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...DB_FOLDERS_IN_CORE],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'db',
          include: [TEST_FILES],
          exclude: [
            ...configDefaults.exclude,
            // the unit project's files: core's tests outside its database folders
            'packages/core/tests/!(ledger|recon)/**',
            'packages/core/tests/*.test.ts',
          ],
          globalSetup: ['packages/local/tests/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'infra',
          include: ['infra-tests/**/*.test.ts'],
          setupFiles: ['infra-tests/setup.ts'],
          env: { NODE_ENV: 'test', SST_TELEMETRY_DISABLED: '1' },
          // Synthesis shares .sst/ in the working directory: run infra files one after another, in one process
          // without isolation, so files asking for the same stage share one synthesis (infra-tests/synth.ts).
          poolOptions: { forks: { singleFork: true } },
          isolate: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
          pool: 'forks',
        },
      },
    ],
  },
});
