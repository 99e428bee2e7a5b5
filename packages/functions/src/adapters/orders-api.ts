// The merchant's apps' order-status API over API Gateway (HTTP API, IAM/SigV4-authenticated at the API; a bearer
// token on the local gateway): GET /orders/{provider}/{account}/{merchantOrderNo} → the order's status from the
// ledger (getOrderStatus, read through the read-only database role). docs/openapi/orders.yaml describes it.
// Amounts are bigint minor units written as decimal strings: a JSON number would lose cents past 2^53.
import { type OrderKey, type OrderStatus, OrderStatusError } from '@payhooks/core/ledger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export interface OrdersDeps {
  lookup: (key: OrderKey) => Promise<OrderStatus | undefined>;
  /** The OpenAPI description served at GET /orders/openapi.yaml, when the deployment has it. */
  openapi?: () => Promise<string>;
}

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

const problem = (statusCode: number, code: string, message: string) => json(statusCode, { code, message });

/** The response body: bigint → decimal string, Date → ISO 8601 UTC. */
export function orderStatusBody(status: OrderStatus): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(status, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)),
  ) as Record<string, unknown>;
}

export function createOrders(deps: OrdersDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const method = event.requestContext?.http?.method ?? 'GET';
    if (method !== 'GET') return problem(405, 'METHOD_NOT_ALLOWED', 'only GET is served here');
    if (event.rawPath?.endsWith('/orders/openapi.yaml')) {
      if (!deps.openapi) return problem(404, 'NOT_FOUND', 'no OpenAPI description in this deployment');
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/yaml; charset=utf-8', 'cache-control': 'max-age=300' },
        body: await deps.openapi(),
      };
    }
    const params = event.pathParameters ?? {};
    const key: OrderKey = {
      provider: params.provider ?? '',
      account: params.account ?? '',
      merchantOrderNo: params.merchantOrderNo ?? '',
    };
    let status: OrderStatus | undefined;
    try {
      status = await deps.lookup(key);
    } catch (error) {
      if (error instanceof OrderStatusError) return problem(400, error.code, error.message);
      throw error;
    }
    if (!status)
      return problem(
        404,
        'ORDER_NOT_FOUND',
        'the ledger has no such order and no payment for it (check provider, account and order number)',
      );
    return json(200, orderStatusBody(status));
  };
}
