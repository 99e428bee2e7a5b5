// API Gateway HTTP API (payload v2) ↔ the provider-neutral ingress request/response.
import type { IngressRequest, IngressResponse } from '@payhooks/core/ingress/types';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export function toIngressRequest(event: APIGatewayProxyEventV2): IngressRequest {
  const raw = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  return {
    body,
    headers,
    pathParameters: event.pathParameters ?? {},
    requestId: event.requestContext?.requestId ?? '',
  };
}

export function toApiResult(response: IngressResponse): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: response.status,
    headers: response.headers,
    body: response.body,
    isBase64Encoded: false,
  };
}
