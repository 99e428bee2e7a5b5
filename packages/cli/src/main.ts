#!/usr/bin/env -S npx tsx
// payhooks operator CLI: `npm run cli -- <command>` (also the `payhooks` bin). Exit codes: exit-codes.ts.
import './sdk-warnings.ts';
import { PayhooksError } from '@payhooks/core/errors';
import { EXIT } from './exit-codes.ts';
import { buildProgram } from './program.ts';

// An error thrown on purpose (PayhooksError: usage, configuration, a missing report…) is one line with its
// stable code, no stack trace; anything else is a bug or an outage and keeps its stack for whoever debugs it.
buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (error instanceof PayhooksError) console.error(`${error.code}: ${error.message}`);
    else
      console.error(
        error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error),
      );
    process.exit(EXIT.failed);
  });
