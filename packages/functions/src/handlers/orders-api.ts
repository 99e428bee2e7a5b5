// Lambda: GET /orders/{provider}/{account}/{merchantOrderNo} and GET /orders/openapi.yaml — the merchant's apps'
// order-status API (adapters/orders-api.ts), IAM-authenticated at the API, read-only database role.
import { createOrdersHandler } from '../wiring/orders.ts';

export { createOrders, type OrdersDeps, orderStatusBody } from '../adapters/orders-api.ts';
export { createOrdersHandler };

export const handler = createOrdersHandler(process.env);
