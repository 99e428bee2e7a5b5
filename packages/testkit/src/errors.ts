// Errors the test kit throws on purpose: a sandbox or scenario misused by a test, the bench or `npm start`. Like
// the runtime's, they extend PayhooksError with a stable `code`.
import { PayhooksError } from '@payhooks/core/errors';

/** The provider sandbox or a scenario builder was asked for something it cannot do (unknown merchant, bad input). */
export class SandboxError extends PayhooksError {}
