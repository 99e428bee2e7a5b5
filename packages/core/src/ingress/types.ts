// Provider-neutral shape of an HTTP callback as ingress sees it (built from an API Gateway v2 event).
import type { Clock, Logger, Metrics, ObjectStore, Queue } from '../ports.ts';

export interface IngressRequest {
  /**
   * The raw body exactly as received: the bytes (base64 already decoded), or the text the transport delivered,
   * standing for its UTF-8 encoding (API Gateway's body when not base64-encoded). Text spares the callback path
   * an encode and a strict decode of the same body (../received-body.ts keeps the two forms equivalent).
   */
  body: Uint8Array | string;
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string | undefined>>;
  pathParameters: Readonly<Record<string, string | undefined>>;
  requestId: string;
}

export interface IngressResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface IngressDeps {
  queue: Queue;
  /**
   * Where a body whose envelope does not fit one queue message is stored (claim check, ./claim-check.ts).
   * Absent: such an event is answered 413 ENVELOPE_TOO_LARGE (tests, tools without a bucket).
   */
  claims?: Pick<ObjectStore, 'put'> | undefined;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

export const json = (status: number, body: unknown): IngressResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
