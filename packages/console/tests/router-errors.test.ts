// The router's answer for each kind of error a route throws: the status tells the browser whether to fix the
// request (4xx), retry it (503) or report it (500), and a 500 never shows the error's text.
import { ConfigError, EnqueueError, PayhooksError } from '@payhooks/core/errors';
import type { Logger } from '@payhooks/core/ports';
import { describe, expect, it } from 'vitest';
import { ConsoleApiError } from '../src/api/errors.ts';
import { createConsoleRouter } from '../src/api/router.ts';
import type { ConsoleRequest } from '../src/api/types.ts';

function routerThrowing(error: unknown) {
  const logged: unknown[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (_message, fields) => logged.push(fields),
  };
  const api = createConsoleRouter(
    [
      {
        method: 'GET',
        path: '/boom',
        roles: ['ops'],
        handle: async () => {
          throw error;
        },
      },
    ],
    { logger },
  );
  const request: ConsoleRequest = {
    method: 'GET',
    path: '/boom',
    query: {},
    headers: { host: 'console.example' },
    body: '',
    claims: { 'cognito:username': 'ana', 'cognito:groups': '[ops]' },
  };
  return { call: () => api(request), logged };
}

describe('console router error answers', () => {
  it.each([
    [new ConsoleApiError(422, 'X_UNPROCESSABLE', 'field y is wrong'), 422, 'X_UNPROCESSABLE'],
    [new ConfigError('X_CONFIG', 'CONSOLE_X is not set'), 400, 'X_CONFIG'],
    [new EnqueueError('SQS_UNAVAILABLE', 'SQS SendMessage failed'), 503, 'SQS_UNAVAILABLE'],
    [
      new PayhooksError('BREAK_INVALID_TRANSITION', 'a resolved break cannot be healed'),
      409,
      'BREAK_INVALID_TRANSITION',
    ],
  ])('%s → %i', async (error, status, code) => {
    const { call, logged } = routerThrowing(error);
    const response = await call();
    expect(response.status).toBe(status);
    expect(JSON.parse(response.body).code).toBe(code);
    expect(logged).toEqual([]);
  });

  it('tells the caller when a message the queue did not take may be retried', async () => {
    const response = await routerThrowing(
      new EnqueueError('SQS_UNAVAILABLE', 'SQS SendMessage failed'),
    ).call();
    expect(response.headers['retry-after']).toBe('5');
    expect(JSON.parse(response.body).message).toMatch(/nothing was sent/);
  });

  it('answers an unexpected error with 500 and logs it, without its text in the answer', async () => {
    const { call, logged } = routerThrowing(
      new TypeError("cannot read properties of undefined (reading 'rows')"),
    );
    const response = await call();
    expect(response.status).toBe(500);
    expect(JSON.parse(response.body)).toEqual({
      code: 'CONSOLE_INTERNAL',
      message: 'internal error; see the console API log',
    });
    expect(logged).toEqual([
      expect.objectContaining({
        route: 'GET /boom',
        errorName: 'TypeError',
        errorMessage: expect.stringMatching(/rows/),
      }),
    ]);
  });
});
