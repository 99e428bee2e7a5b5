// Errors the console API throws on purpose; the router answers each with its status and code, never a stack trace.
import { PayhooksError } from '@payhooks/core/errors';

export class ConsoleApiError extends PayhooksError {
  readonly status: number;
  constructor(status: number, code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

export const badRequest = (message: string) => new ConsoleApiError(400, 'CONSOLE_BAD_REQUEST', message);
export const notFound = (message: string) => new ConsoleApiError(404, 'CONSOLE_NOT_FOUND', message);
