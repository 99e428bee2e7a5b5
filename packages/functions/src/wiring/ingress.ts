// The webhook handlers' shared shape: an API Gateway v2 handler, and the body limit both use.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** 192 KiB leaves room for the envelope (JSON escaping) inside one 256 KiB queue message. */
export const DEFAULT_MAX_BODY_BYTES = 196_608;
