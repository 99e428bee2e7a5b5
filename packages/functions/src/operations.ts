// Lambda: operations for the operator CLI (`payhooks --stage NAME …`), invoked with IAM (lambda:InvokeFunction)
// from a laptop: failure reasons, reconciliation runs, backfills and a health check need the database or the
// providers, which live in the VPC (operations/actions.ts; dependencies in wiring/operations.ts).
import { createOperationsHandler } from './wiring/operations.ts';

export type { DoctorCheck, OperationRequest, OperationResponse } from './operations/protocol.ts';
export { createOperationsHandler };

export const handler = createOperationsHandler(process.env);
