// The order-status API on the local gateway: the Lambda's own handler, reading through the read-only role
// (a session role on the stack's superuser URL, as DB_USER = payhooks_readonly logs in in AWS). The stack puts
// the routes behind the bearer token that stands in for IAM. The OpenAPI description is the repository's
// docs/openapi/orders.yaml.
import { fileURLToPath } from 'node:url';
import { createSql, DATABASE_ROLES, getOrderStatus } from '@payhooks/core/ledger';
import { createOrdersHandler } from '@payhooks/functions/handlers/orders-api';
import type { Route } from './gateway.ts';

export const ORDERS_OPENAPI_FILE = fileURLToPath(
  new URL('../../../docs/openapi/orders.yaml', import.meta.url),
);

export function localOrderRoutes(databaseUrl: string): { routes: Route[]; stop(): Promise<void> } {
  const sql = createSql({
    url: databaseUrl,
    max: 4,
    role: DATABASE_ROLES.readonly,
    applicationName: 'payhooks-orders',
  });
  const handler = createOrdersHandler({ ORDERS_OPENAPI_FILE }, { lookup: (key) => getOrderStatus(sql, key) });
  return {
    routes: [
      { method: 'GET', path: '/orders/openapi.yaml', handler },
      { method: 'GET', path: '/orders/{provider}/{account}/{merchantOrderNo}', handler },
    ],
    stop: () => sql.end(),
  };
}
