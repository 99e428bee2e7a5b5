// The console on the local gateway, as API Gateway + Cognito serve it on AWS: the static page and config, a login
// endpoint answering Cognito's InitiateAuth request shape (USER_PASSWORD_AUTH) from the users in local.json with an
// ES256-signed ID token, and the console API behind a JWT check (issuer, audience, expiry, signature) that puts the
// verified claims where API Gateway's JWT authorizer does — `requestContext.authorizer.jwt.claims`, array claims
// rendered as `[a b]` — before the same router the Lambda runs.
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  CONSOLE_API_BASE,
  type ConsoleApiDeps,
  consoleApiHandler,
  createConsoleApi,
  type Role,
} from '@payhooks/console/api';
import { createConsoleStaticHandler } from '@payhooks/console/assets';
import { buildConsoleAssets } from '@payhooks/console/build';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type CryptoKey, generateKeyPair, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { Route } from './gateway.ts';

export interface ConsoleUser {
  username: string;
  password: string;
  groups: Role[];
}

export const LOCAL_CONSOLE_CLIENT_ID = 'payhooks-local-console';
export const LOCAL_CONSOLE_ISSUER = 'urn:payhooks:local-console';
const TOKEN_SECONDS = 3600;

/** One finance and one ops user with fresh random passwords (written to local.json, printed at start). */
export function generateConsoleUsers(): ConsoleUser[] {
  return [
    { username: 'finance', password: randomBytes(12).toString('base64url'), groups: ['finance'] },
    { username: 'ops', password: randomBytes(12).toString('base64url'), groups: ['ops'] },
  ];
}

type Result = APIGatewayProxyStructuredResultV2;

const amzJson = (statusCode: number, body: unknown): Result => ({
  statusCode,
  headers: { 'content-type': 'application/x-amz-json-1.1', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
};

export interface LocalTokenIssuer {
  /** POST /console/auth: Cognito's InitiateAuth, USER_PASSWORD_AUTH only. */
  auth(event: APIGatewayProxyEventV2): Promise<Result>;
  /** The claims of a valid token, or undefined. */
  verify(token: string): Promise<JWTPayload | undefined>;
  /** An ID token for a user (tests use it to skip the form). */
  issue(user: ConsoleUser): Promise<string>;
}

export async function createLocalTokenIssuer(
  users: readonly ConsoleUser[],
  now: () => Date = () => new Date(),
): Promise<LocalTokenIssuer> {
  // A key of this process only: tokens die with the stack, as a restart should end every session.
  const { privateKey, publicKey } = (await generateKeyPair('ES256')) as {
    privateKey: CryptoKey;
    publicKey: CryptoKey;
  };
  const subjects = new Map(users.map((user) => [user.username, randomUUID()]));
  const issue = async (user: ConsoleUser) => {
    const at = Math.floor(now().getTime() / 1000);
    return new SignJWT({
      'cognito:username': user.username,
      'cognito:groups': user.groups,
      token_use: 'id',
      auth_time: at,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'local' })
      .setSubject(subjects.get(user.username) ?? randomUUID())
      .setIssuer(LOCAL_CONSOLE_ISSUER)
      .setAudience(LOCAL_CONSOLE_CLIENT_ID)
      .setIssuedAt(at)
      .setExpirationTime(at + TOKEN_SECONDS)
      .sign(privateKey);
  };
  return {
    issue,
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, publicKey, {
          issuer: LOCAL_CONSOLE_ISSUER,
          audience: LOCAL_CONSOLE_CLIENT_ID,
          algorithms: ['ES256'],
          currentDate: now(),
        });
        return payload;
      } catch {
        return undefined;
      }
    },
    async auth(event) {
      const target = event.headers?.['x-amz-target'] ?? '';
      if (target !== 'AWSCognitoIdentityProviderService.InitiateAuth')
        return amzJson(400, {
          __type: 'InvalidParameterException',
          message: 'only AWSCognitoIdentityProviderService.InitiateAuth is served locally',
        });
      let request: {
        AuthFlow?: string;
        ClientId?: string;
        AuthParameters?: { USERNAME?: string; PASSWORD?: string };
      };
      try {
        const text = event.isBase64Encoded
          ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
          : (event.body ?? '');
        request = JSON.parse(text);
      } catch {
        return amzJson(400, { __type: 'SerializationException', message: 'the body is not JSON' });
      }
      if (request.AuthFlow !== 'USER_PASSWORD_AUTH')
        return amzJson(400, {
          __type: 'InvalidParameterException',
          message: 'AuthFlow must be USER_PASSWORD_AUTH',
        });
      if (request.ClientId !== LOCAL_CONSOLE_CLIENT_ID)
        return amzJson(400, {
          __type: 'ResourceNotFoundException',
          message: 'User pool client does not exist.',
        });
      const given = request.AuthParameters ?? {};
      // Every user is compared, so the time taken does not tell which user names exist.
      let found: ConsoleUser | undefined;
      for (const user of users) {
        const nameOk = sameText(user.username, String(given.USERNAME ?? ''));
        const passwordOk = sameText(user.password, String(given.PASSWORD ?? ''));
        if (nameOk && passwordOk) found = user;
      }
      if (!found)
        return amzJson(400, { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' });
      const token = await issue(found);
      return amzJson(200, {
        AuthenticationResult: {
          IdToken: token,
          AccessToken: token,
          ExpiresIn: TOKEN_SECONDS,
          TokenType: 'Bearer',
        },
        ChallengeParameters: {},
      });
    },
  };
}

/** API Gateway's rendering of verified claims: strings, array claims as `[a b]`. */
export function authorizerClaims(payload: JWTPayload): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload))
    claims[name] = Array.isArray(value) ? `[${value.join(' ')}]` : String(value);
  return claims;
}

/** Plays the JWT authorizer: no valid bearer token → 401 before the function; else the claims go in the event. */
export function withLocalJwtAuthorizer(
  issuer: LocalTokenIssuer,
  handler: (event: APIGatewayProxyEventV2) => Promise<Result>,
) {
  return async (event: APIGatewayProxyEventV2): Promise<Result> => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(event.headers?.authorization ?? '');
    const payload = match ? await issuer.verify(match[1]!) : undefined;
    if (!payload)
      return {
        statusCode: 401,
        headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' },
        body: '{"message":"Unauthorized"}',
      };
    const requestContext = {
      ...event.requestContext,
      authorizer: { jwt: { claims: authorizerClaims(payload), scopes: null } },
    };
    return handler({ ...event, requestContext } as APIGatewayProxyEventV2);
  };
}

export interface LocalConsole {
  routes: Route[];
  issuer: LocalTokenIssuer;
}

const API_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The console's routes on the local gateway; the assets are built here, once per start. */
export async function startLocalConsole(options: {
  users: readonly ConsoleUser[];
  api: ConsoleApiDeps;
}): Promise<LocalConsole> {
  const issuer = await createLocalTokenIssuer(options.users);
  const statics = createConsoleStaticHandler(await buildConsoleAssets(), {
    authUrl: '/console/auth',
    clientId: LOCAL_CONSOLE_CLIENT_ID,
    stage: 'local',
  });
  const api = withLocalJwtAuthorizer(issuer, consoleApiHandler(createConsoleApi(options.api)));
  return {
    issuer,
    routes: [
      { method: 'GET', path: '/console', handler: statics },
      { method: 'GET', path: '/console/', handler: statics },
      { method: 'GET', path: '/console/config.json', handler: statics },
      { method: 'GET', path: '/console/assets/{file}', handler: statics },
      { method: 'POST', path: '/console/auth', handler: (event) => issuer.auth(event) },
      ...API_METHODS.map((method) => ({ method, path: `${CONSOLE_API_BASE}/{path+}`, handler: api })),
    ],
  };
}
