// The operations function's dependencies from the environment: the app-role database through the RDS Proxy, the
// reports bucket (REPORTS_BUCKET), the main queue (QUEUE_URL) and the claim-check bucket (CLAIM_CHECK_BUCKET), each
// built on first use.
import { createLogger } from '@payhooks/core/logger';
import type { ObjectStore, Queue } from '@payhooks/core/ports';
import { s3StoreFromEnv } from '../adapters/s3-store.ts';
import { queueFromEnv } from '../adapters/sqs.ts';
import type { Env } from '../config.ts';
import { createOperations, type OperationsDeps } from '../operations/actions.ts';
import type { OperationResponse } from '../operations/protocol.ts';
import { claimStoreFromEnv } from './claim-check.ts';
import { sqlFromEnv } from './db.ts';

function lazy<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= create();
    return value;
  };
}

export function operationsDepsFromEnv(env: Env, overrides: Partial<OperationsDeps> = {}): OperationsDeps {
  return {
    sql: overrides.sql ?? sqlFromEnv(env, 'payhooks-operations'),
    env,
    logger: overrides.logger ?? createLogger({ name: 'operations' }),
    store: overrides.store ?? lazy<ObjectStore>(() => s3StoreFromEnv(env)),
    queue: overrides.queue ?? lazy<Queue>(() => queueFromEnv(env)),
    claims: overrides.claims ?? lazy(() => claimStoreFromEnv(env)),
  };
}

export function createOperationsHandler(
  env: Env,
  overrides: Partial<OperationsDeps> = {},
): (event: unknown) => Promise<OperationResponse> {
  let operations: ((event: unknown) => Promise<OperationResponse>) | undefined;
  return (event) => {
    operations ??= createOperations(operationsDepsFromEnv(env, overrides));
    return operations(event);
  };
}
