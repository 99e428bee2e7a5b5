// API Gateway HTTP API (payload v2) ↔ the provider-neutral ingress request/response.
import type { IngressRequest, IngressResponse } from '@payhooks/core/ingress/types';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export function toIngressRequest(event: APIGatewayProxyEventV2): IngressRequest {
  const raw = event.body ?? '';
  // A text body goes on as text (IngressRequest.body): no encode here, no strict decode after verification.
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64') : raw;
  return {
    body,
    headers: lowerCased(event.headers ?? {}),
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

const UPPER = /[A-Z]/;

/** API Gateway v2 already lower-cases header names: copy only when one is not (hand-built events, tests). */
function lowerCased(headers: Record<string, string | undefined>): Record<string, string | undefined> {
  let upper = false;
  for (const name in headers)
    if (UPPER.test(name)) {
      upper = true;
      break;
    }
  if (!upper) return headers;
  const copy: Record<string, string | undefined> = {};
  for (const name in headers) copy[name.toLowerCase()] = headers[name];
  return copy;
}
