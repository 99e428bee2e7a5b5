// Small HTTP helpers shared by the provider API sandbox's WeChat Pay and Stripe halves.

import type http from 'node:http';
import { SandboxError } from '../errors.ts';

export interface SandboxRequest {
  method: string;
  /** Path plus query exactly as received (what WeChat's request signature covers). */
  pathWithQuery: string;
  url: URL;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

export interface SandboxResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const MAX_BODY_BYTES = 1024 * 1024;

export async function readRequest(request: http.IncomingMessage): Promise<SandboxRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new SandboxError('SANDBOX_BODY_TOO_LARGE', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  const pathWithQuery = request.url ?? '/';
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === 'string') headers[name] = value;
    else if (Array.isArray(value)) headers[name] = value.join(',');
  }
  return {
    method: (request.method ?? 'GET').toUpperCase(),
    pathWithQuery,
    url: new URL(pathWithQuery, 'http://sandbox.invalid'),
    headers,
    body: Buffer.concat(chunks),
  };
}

export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): SandboxResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: Buffer.from(JSON.stringify(value), 'utf8'),
  };
}

export function bytesResponse(status: number, body: Buffer, contentType: string): SandboxResponse {
  return { status, headers: { 'content-type': contentType }, body };
}

export function writeResponse(res: http.ServerResponse, answer: SandboxResponse): void {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
  res.end(answer.body);
}
