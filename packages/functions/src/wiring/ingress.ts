// The webhook handlers' shared shape: an API Gateway v2 handler, and the body limit both use.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The absolute cap on a callback body (MAX_BODY_BYTES), the same for both providers (413 above it). Below it every
 * verified body is queued: inline when its envelope fits one 1 MiB queue message, by claim check otherwise. 2 MiB
 * keeps the API Gateway event within Lambda's 6 MB invocation payload even when the body arrives base64-encoded
 * (×4/3) or is a JSON text whose quotes the event escapes again (×2), and is far above any Stripe event or WeChat
 * Pay notification (docs/decisions.md "Claim check").
 */
export const DEFAULT_MAX_BODY_BYTES = 2_097_152;
