// The order-status API's dependencies from the environment: the ledger through the read-only role (DB_USER =
// payhooks_readonly in AWS; DATABASE_URL with DATABASE_ROLE locally), one connection per container, and the
// OpenAPI description when ORDERS_OPENAPI_FILE names it (relative: inside the bundle, LAMBDA_TASK_ROOT).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { getOrderStatus } from '@payhooks/core/ledger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createOrders, type OrdersDeps } from '../adapters/orders-api.ts';
import type { Env } from '../config.ts';
import { sqlFromEnv } from './db.ts';

export function createOrdersHandler(env: Env, overrides: Partial<OrdersDeps> = {}) {
  let handle: ReturnType<typeof createOrders> | undefined;
  return (event: APIGatewayProxyEventV2) => {
    if (!handle) {
      const openapiFile = env.ORDERS_OPENAPI_FILE
        ? path.resolve(env.LAMBDA_TASK_ROOT ?? process.cwd(), env.ORDERS_OPENAPI_FILE)
        : undefined;
      let lookup = overrides.lookup;
      if (!lookup) {
        const sql = sqlFromEnv(env, 'payhooks-orders');
        lookup = (key) => getOrderStatus(sql, key);
      }
      let spec: Promise<string> | undefined;
      const openapi =
        overrides.openapi ??
        (openapiFile
          ? () => {
              spec ??= readFile(openapiFile, 'utf8');
              return spec;
            }
          : undefined);
      handle = createOrders({ lookup, ...(openapi ? { openapi } : {}) });
    }
    return handle(event);
  };
}
