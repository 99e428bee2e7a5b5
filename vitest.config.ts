import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/tests/**/*.test.ts'],
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
          // Synthesis shares .sst/ in the working directory: run infra files one after another.
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 180_000,
          hookTimeout: 180_000,
          pool: 'forks',
        },
      },
    ],
  },
});
