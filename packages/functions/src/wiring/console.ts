// The console's Lambda dependencies: the API (database, reports bucket for short-lived links) and the static page
// (assets built at synthesis into CONSOLE_ASSETS_DIR, the login endpoint from the region and app client). Roles and
// the user come from the JWT authorizer's claims only, never from the environment.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleApiDeps } from '@payhooks/console/api';
import { consoleApiHandler, createConsoleApi } from '@payhooks/console/api';
import { type ConsoleConfig, createConsoleStaticHandler, readConsoleAssets } from '@payhooks/console/assets';
import { createLogger } from '@payhooks/core/logger';
import { systemClock } from '@payhooks/core/ports';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { s3StoreFromEnv } from '../adapters/s3-store.ts';
import { type Env, integer, list, optional, required } from '../config.ts';
import { sqlFromEnv } from './db.ts';

export function consoleApiDepsFromEnv(env: Env): ConsoleApiDeps {
  const origins = list(env.CONSOLE_ALLOWED_ORIGINS ?? '');
  return {
    sql: sqlFromEnv(env, 'payhooks-console'),
    reports: s3StoreFromEnv(env),
    linkSeconds: integer(env, 'REPORT_LINK_SECONDS', 300),
    clock: systemClock,
    logger: createLogger({ name: 'payhooks-console' }),
    ...(origins.length ? { allowedOrigins: origins } : {}),
    ...(env.STRIPE_ORDER_METADATA_KEY ? { stripeOrderMetadataKey: env.STRIPE_ORDER_METADATA_KEY } : {}),
  };
}

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Built on the first request (a misconfiguration fails that request with one line, not the import). */
export function createConsoleApiHandlerFromEnv(env: Env): Handler {
  let handler: Handler | undefined;
  return (event) => {
    handler ??= consoleApiHandler(createConsoleApi(consoleApiDepsFromEnv(env)));
    return handler(event);
  };
}

export function consoleConfigFromEnv(env: Env): ConsoleConfig {
  const region = required(env, 'AWS_REGION');
  return {
    authUrl: optional(env, 'CONSOLE_AUTH_URL', `https://cognito-idp.${region}.amazonaws.com/`),
    clientId: required(env, 'CONSOLE_CLIENT_ID'),
    stage: optional(env, 'CONSOLE_STAGE', env.SST_STAGE ?? 'aws'),
  };
}

/** The assets sit beside the bundled handler (`console-assets/`, copied in at synthesis) unless CONSOLE_ASSETS_DIR says. */
export function createConsoleStaticHandlerFromEnv(env: Env): Handler {
  let handler: Promise<Handler> | undefined;
  return async (event) => {
    handler ??= (async () => {
      const dir =
        env.CONSOLE_ASSETS_DIR ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'console-assets');
      return createConsoleStaticHandler(await readConsoleAssets(dir), consoleConfigFromEnv(env));
    })();
    return (await handler)(event);
  };
}
