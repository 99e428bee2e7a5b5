// Every refusal of the console API, through the local gateway on the real stack: no token → 401, a token the
// authorizer did not issue → 401, each route refuses each role it does not list (403), and state changes need a
// bearer token, a JSON body and our own Origin (CSRF).
import { consoleRoutes } from '@payhooks/console/api';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleStack, startConsoleStack } from './helpers/console-stack.ts';

let stack: ConsoleStack;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  stack = await startConsoleStack();
  tokens.finance = await stack.token('finance');
  tokens.ops = await stack.token('ops');
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

const api = (path: string, init: RequestInit = {}) => fetch(`${stack.origin}/console/api${path}`, init);
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// The routes as the router has them (deps are not used to list them).
const routes = consoleRoutes({} as never);
const concrete = (path: string) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'id' ? '1' : 'x'));

describe('console API role refusals', () => {
  it('answers 401 without a token, with a malformed one, and with one signed by another key', async () => {
    expect((await api('/me')).status).toBe(401);
    expect((await api('/me', { headers: { authorization: 'Bearer not-a-jwt' } })).status).toBe(401);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ 'cognito:username': 'finance', 'cognito:groups': ['finance', 'ops'] })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('urn:payhooks:local-console')
      .setAudience('payhooks-local-console')
      .setExpirationTime('1h')
      .sign(privateKey);
    expect((await api('/me', { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
  });

  it('logs in through the Cognito InitiateAuth shape and refuses a wrong password', async () => {
    const login = (password: string) =>
      fetch(`${stack.origin}/console/auth`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
        },
        body: JSON.stringify({
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: 'payhooks-local-console',
          AuthParameters: { USERNAME: 'finance', PASSWORD: password },
        }),
      });
    const refused = await login(`${stack.user('finance').password}x`);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ __type: 'NotAuthorizedException' });
    const accepted = await login(stack.user('finance').password);
    expect(accepted.status).toBe(200);
    const { AuthenticationResult } = (await accepted.json()) as { AuthenticationResult: { IdToken: string } };
    const me = await api('/me', { headers: { authorization: `Bearer ${AuthenticationResult.IdToken}` } });
    expect(await me.json()).toEqual({ user: 'finance', roles: ['finance'] });
  });

  it('refuses every route to each role it does not list (403)', async () => {
    const refusals: string[] = [];
    for (const route of routes)
      for (const role of ['finance', 'ops'] as const) {
        if (route.roles.includes(role)) continue;
        const headers: Record<string, string> = { authorization: `Bearer ${tokens[role]}` };
        if (STATE_CHANGING.has(route.method)) {
          headers['content-type'] = 'application/json';
          headers.origin = stack.origin;
        }
        const response = await api(concrete(route.path), {
          method: route.method,
          headers,
          ...(STATE_CHANGING.has(route.method) ? { body: '{}' } : {}),
        });
        const body = (await response.json()) as { code?: string };
        if (response.status !== 403 || body.code !== 'CONSOLE_FORBIDDEN')
          refusals.push(`${role} ${route.method} ${route.path} → ${response.status} ${body.code}`);
        refusals.push(`ok ${role} ${route.method} ${route.path}`);
      }
    expect(refusals.filter((line) => !line.startsWith('ok '))).toEqual([]);
    // The matrix is not empty: finance is refused something and so is ops.
    expect(refusals.some((line) => line.startsWith('ok finance'))).toBe(
      routes.some((r) => !r.roles.includes('finance')),
    );
    expect(refusals.some((line) => line.startsWith('ok ops'))).toBe(
      routes.some((r) => !r.roles.includes('ops')),
    );
  });

  it('refuses a state change without JSON, from another origin, or marked cross-site (CSRF)', async () => {
    const write = routes.find((r) => STATE_CHANGING.has(r.method) && r.roles.includes('finance'));
    // Until the finance routes exist, any path stands in: the checks run before the route's own work.
    const path = write ? concrete(write.path) : '/me';
    const method = write?.method ?? 'POST';
    const send = (headers: Record<string, string>) =>
      api(path, { method, headers: { authorization: `Bearer ${tokens.finance}`, ...headers }, body: '{}' });
    const form = await send({ 'content-type': 'application/x-www-form-urlencoded', origin: stack.origin });
    const other = await send({ 'content-type': 'application/json', origin: 'https://evil.example' });
    const crossSite = await send({ 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' });
    if (write) {
      expect(form.status).toBe(415);
      expect(((await other.json()) as { code: string }).code).toBe('CONSOLE_CROSS_ORIGIN');
      expect(other.status).toBe(403);
      expect(crossSite.status).toBe(403);
    } else {
      for (const response of [form, other, crossSite]) expect(response.status).toBe(405);
    }
  });

  it('never answers a session with a cookie', async () => {
    const response = await api('/me', { headers: { authorization: `Bearer ${tokens.ops}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.json()).toEqual({ user: 'ops', roles: ['ops'] });
  });
});
