// The console's Lambda dependencies: the API (database, reports bucket for short-lived links, the ops ports on SQS
// and CloudWatch, the upload port that hands files to the upload function), the upload function itself (the
// reconciliation role, the reports bucket) and the static page (assets built at synthesis into
// CONSOLE_ASSETS_DIR, the login endpoint from the region and app client). Roles and the user come from the JWT
// authorizer's claims only, never from the environment.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleApiDeps } from '@payhooks/console/api';
import { consoleApiHandler, createConsoleApi } from '@payhooks/console/api';
import { type ConsoleConfig, createConsoleStaticHandler, readConsoleAssets } from '@payhooks/console/assets';
import { createLogger } from '@payhooks/core/logger';
import { type Clock, type Logger, systemClock } from '@payhooks/core/ports';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  cloudwatchQueueAges,
  cloudwatchQueueDepthHistory,
  cloudwatchRejections,
  type GetMetricData,
  sdkGetMetricData,
} from '../adapters/cloudwatch-ops.ts';
import { opsQueuesOn } from '../adapters/console-ops-sqs.ts';
import { lambdaStartUpload, reconUploadsVia, type StartUpload } from '../adapters/console-upload.ts';
import { s3StoreFromEnv } from '../adapters/s3-store.ts';
import { sqsClientFromEnv } from '../adapters/sqs.ts';
import { type Env, integer, list, optional, required } from '../config.ts';
import { runUpload, type UploadDeps, type UploadEvent } from '../reconciliation/upload.ts';
import { sqlFromEnv } from './db.ts';

/**
 * The ops ports of a stage: the DLQ and depth on SQS; the oldest message's age, the depth chart and rejections from
 * CloudWatch.
 */
export function consoleOpsDepsFromEnv(
  env: Env,
  overrides: { getMetricData?: GetMetricData; clock?: Clock } = {},
): NonNullable<ConsoleApiDeps['ops']> {
  const queueUrl = required(env, 'QUEUE_URL');
  const dlqUrl = required(env, 'DLQ_URL');
  const getMetricData = overrides.getMetricData ?? sdkGetMetricData();
  const clock = overrides.clock ?? systemClock;
  return {
    queues: opsQueuesOn({ client: sqsClientFromEnv(env), queueUrl, dlqUrl }),
    queueAges: cloudwatchQueueAges({ getMetricData, queueUrl, dlqUrl, clock }),
    depthHistory: cloudwatchQueueDepthHistory({ getMetricData, queueUrl, dlqUrl, clock }),
    rejections: cloudwatchRejections({
      getMetricData,
      // The webhooks' namespace: every function of the stage gets the same (stacks/functions.ts).
      namespace: required(env, 'POWERTOOLS_METRICS_NAMESPACE'),
      clock,
    }),
  };
}

export function consoleApiDepsFromEnv(env: Env): ConsoleApiDeps {
  const origins = list(env.CONSOLE_ALLOWED_ORIGINS ?? '');
  const reports = s3StoreFromEnv(env);
  return {
    sql: sqlFromEnv(env, 'payhooks-console'),
    reports,
    linkSeconds: integer(env, 'REPORT_LINK_SECONDS', 300),
    clock: systemClock,
    logger: createLogger({ name: 'payhooks-console' }),
    ops: consoleOpsDepsFromEnv(env),
    uploads: reconUploadsVia({
      store: reports,
      start: lambdaStartUpload(required(env, 'CONSOLE_UPLOAD_FUNCTION')),
      clock: systemClock,
      stalledAfterSeconds: uploadStalledAfterSeconds(env),
    }),
    ...(origins.length ? { allowedOrigins: origins } : {}),
    ...(env.STRIPE_ORDER_METADATA_KEY ? { stripeOrderMetadataKey: env.STRIPE_ORDER_METADATA_KEY } : {}),
  };
}

/** The upload function's dependencies: the reconciliation role and the reports bucket, no provider key. */
export function consoleUploadDepsFromEnv(env: Env, overrides: Partial<UploadDeps> = {}): UploadDeps {
  return {
    sql: overrides.sql ?? sqlFromEnv(env, 'payhooks-console-upload'),
    store: overrides.store ?? s3StoreFromEnv(env),
    clock: overrides.clock ?? systemClock,
    logger: overrides.logger ?? createLogger({ name: 'payhooks-console-upload' }),
    orderMetadataKey: overrides.orderMetadataKey ?? optional(env, 'STRIPE_ORDER_METADATA_KEY', 'order_id'),
  };
}

/**
 * An upload still queued or running this long after it was kept is answered as failed: the upload function's
 * timeout (the stacks set CONSOLE_UPLOAD_TIMEOUT_SECONDS from it) plus two minutes for Lambda's event queue.
 */
export function uploadStalledAfterSeconds(env: Env): number {
  return integer(env, 'CONSOLE_UPLOAD_TIMEOUT_SECONDS', 300) + 120;
}

/**
 * The local runtime's StartUpload: the upload function's handler run in the background of this process, as
 * Lambda's asynchronous invoke runs it beside the API; it records its own outcome, a crash included.
 */
export function startUploadInBackground(
  run: (event: UploadEvent) => Promise<unknown>,
  logger: Logger,
): StartUpload {
  return async (event) => {
    run(event).catch((error) =>
      logger.error('upload function failed', { file: event.file, error: String(error) }),
    );
  };
}

/** The upload function's handler (the local runtime calls it in process): built on the first invocation. */
export function createConsoleUploadHandler(env: Env, overrides: Partial<UploadDeps> = {}) {
  let deps: UploadDeps | undefined;
  return (event: UploadEvent) => {
    deps ??= consoleUploadDepsFromEnv(env, overrides);
    return runUpload(deps, event);
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
