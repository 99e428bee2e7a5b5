// Errors the CLI throws on purpose: each extends PayhooksError with a stable `code`, so main.ts prints them as one
// line (code and message) and keeps a stack trace for the unexpected. Usage and configuration problems are
// ConfigErrors (codes CLI_USAGE, CLI_NO_…); the classes here are the failures that are neither.
import { PayhooksError } from '@payhooks/core/errors';

/** The report asked for by provider/account/date is not in the reports store. */
export class ReportNotFoundError extends PayhooksError {
  constructor(message: string) {
    super('CLI_REPORT_NOT_FOUND', message);
  }
}

// Thrown by the shared dead-letter operations (functions adapters/dead-letters.ts).
export { MoveTaskFailedError } from '@payhooks/functions/adapters/sqs';
