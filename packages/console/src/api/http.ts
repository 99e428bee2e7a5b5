// Small helpers for the console API's answers: JSON with bigints as strings (money stays exact in the browser).
import type { ConsoleResponse } from './types.ts';

const NO_STORE = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

/** JSON.stringify with bigint → decimal string: amounts are bigint minor units and must never become floats. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): ConsoleResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE, ...headers },
    body: toJson(body),
  };
}

export const problem = (status: number, code: string, message: string, headers?: Record<string, string>) =>
  json(status, { code, message }, headers);
