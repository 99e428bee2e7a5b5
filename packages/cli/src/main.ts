#!/usr/bin/env -S npx tsx
// payhooks operator CLI: `npm run cli -- <command>` (also the `payhooks` bin).
import { PayhooksError } from '@payhooks/core/errors';
import { Command } from 'commander';
import { registerBackfill } from './commands/backfill.ts';
import { registerDlq } from './commands/dlq.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerRecon } from './commands/reconciliation.ts';
import { registerSecrets } from './commands/secrets.ts';

const program = new Command('payhooks').description('payhooks operator commands').showHelpAfterError();
registerDlq(program);
registerBackfill(program);
registerRecon(program);
registerSecrets(program);
registerDoctor(program);

// An error thrown on purpose (PayhooksError: usage, configuration, a missing report…) is one line with its
// stable code, no stack trace; anything else is a bug or an outage and keeps its stack for whoever debugs it.
program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof PayhooksError) console.error(`${error.code}: ${error.message}`);
  else
    console.error(
      error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error),
    );
  process.exit(1);
});
