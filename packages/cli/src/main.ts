#!/usr/bin/env -S npx tsx
// payhooks operator CLI: `npm run cli -- <command>` (also the `payhooks` bin).
import { Command } from 'commander';
import { registerBackfill } from './commands/backfill.ts';
import { registerDlq } from './commands/dlq.ts';
import { registerRecon } from './commands/reconciliation.ts';
import { registerSecrets } from './commands/secrets.ts';

const program = new Command('payhooks').description('payhooks operator commands').showHelpAfterError();
registerDlq(program);
registerBackfill(program);
registerRecon(program);
registerSecrets(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  process.exit(1);
});
