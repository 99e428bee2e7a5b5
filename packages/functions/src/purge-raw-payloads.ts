// Lambda (EventBridge schedule, daily): nulls inbox raw payloads older than RAW_PAYLOAD_RETENTION_DAYS; inbox and
// ledger rows stay (wiring/retention.ts; logic in core ledger/retention.ts).
import { createRawPayloadPurgeHandler } from './wiring/retention.ts';

export { createRawPayloadPurgeHandler };

export const handler = createRawPayloadPurgeHandler(process.env);
