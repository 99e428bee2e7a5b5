// Lambda: operations for the operator CLI (`payhooks --stage NAME …`), invoked with IAM (lambda:InvokeFunction)
// from a laptop: failure reasons, reconciliation runs, backfills and a health check need the database or the
// providers, which live in the VPC (operations/actions.ts; dependencies in wiring/operations.ts).
// The wiring (stripe-node, both providers' code, the SDK clients: 800 KiB) loads with the first request rather
// than at import (docs/decisions.md, session 5 cold start).
import { once } from './config.ts';
import type { OperationResponse } from './operations/protocol.ts';
import type * as Wiring from './wiring/operations.ts';

export type { DoctorCheck, OperationRequest, OperationResponse } from './operations/protocol.ts';

export function createOperationsHandler(
  ...args: Parameters<typeof Wiring.createOperationsHandler>
): (event: unknown) => Promise<OperationResponse> {
  const load = once(async () => (await import('./wiring/operations.ts')).createOperationsHandler(...args));
  return async (event) => (await load())(event);
}

export const handler = createOperationsHandler(process.env);
