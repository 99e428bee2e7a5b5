// Composes the local runtime: Postgres (embedded or external), the SQS emulator with a DLQ, the HTTP gateway
// in front of the Lambda handler modules, and the poller playing the event-source mapping. `npm start` and
// the end-to-end tests both run on this. Process boundaries follow AWS's: the emulator is a child process (the
// queue is a service), each consumer container is a child process with one database connection, and this
// process keeps the gateway with the ingress handlers and the poller (docs/decisions.md, "Local runtime processes").
import { timingSafeEqual } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@payhooks/core/errors';
import { createSql, migrate, type Sql } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import type { Logger } from '@payhooks/core/ports';
import { reconUploadsVia } from '@payhooks/functions/adapters/console-upload';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import type { Env } from '@payhooks/functions/config';
import { createStripeWebhookHandler } from '@payhooks/functions/stripe-webhook';
import { createWechatpayWebhookHandler } from '@payhooks/functions/wechatpay-webhook';
import {
  createConsoleUploadHandler,
  startUploadInBackground,
  uploadStalledAfterSeconds,
} from '@payhooks/functions/wiring/console';
import { withoutFullMerchants, writeMerchantPartFiles } from '@payhooks/functions/wiring/merchants';
import pino from 'pino';
// The same batch size as the stacks' SQS event source (bench case 3 measures it).
import { CONSUMER_BATCH_SIZE } from '../../../stacks/consumer-batch.ts';
import { followAddedStripeSecrets } from './added-secrets.ts';
import { createBatchingSender } from './batching-sender.ts';
import { type ConsoleUser, type LocalConsole, startLocalConsole } from './console.ts';
import { opsQueuesOn } from './console-ops.ts';
import { startContainerPool } from './containers.ts';
import { CLAIM_CHECK_DIR_VARIABLE, createFolderStore } from './folder-store.ts';
import { type Gateway, type Route, startGateway } from './gateway.ts';
import { localReportRoutes } from './local-reconciliation.ts';
import { localOrderRoutes } from './orders.ts';
import { type Poller, startPoller } from './poller.ts';
import { type LocalPostgres, type PostgresSupervisionEvent, startLocalPostgres } from './postgres.ts';
import { localQueueAges } from './queue-ages.ts';
import { startQueueDepthSampler } from './queue-depth-sampler.ts';
import { restoreQueueSnapshot, saveQueueSnapshot, snapshotFile } from './queue-snapshot.ts';
import { RejectionRing, rememberingRejections } from './rejection-ring.ts';
import { gatewayReportLinks } from './report-links.ts';
import { type LocalQueues, startLocalQueues } from './sqs.ts';
import { acquireStateLock } from './state-lock.ts';

/**
 * The local poller gathers a partial batch for 100 ms. AWS requires a batching window of at least 1 s for batches
 * above 10 records (the stacks set 1 s); locally nothing does, and a burst's last partial batch waiting 1 s was
 * most of the local end-to-end time and lag (docs/decisions.md, "Local batching window: 100 ms"). Under a backlog
 * batches still fill to 500 at once: the receives run in parallel while the queue has messages.
 */
const LOCAL_BATCHING_WINDOW_MS = 100;

export interface LocalStackOptions {
  /** Folder for data, logs and reports (git-ignored `.payhooks` by default). */
  stateDir: string;
  port: number;
  /** External database instead of the embedded one. */
  databaseUrl?: string;
  pgPort?: number;
  fastPostgres?: boolean;
  stripeWebhookSecrets: string[];
  /** WeChat Pay merchant configuration (docs/wechatpay-merchants.md); default: WECHATPAY_MERCHANTS_FILE. */
  wechatpayMerchantsFile?: string;
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  consumerConcurrency?: number;
  /** Like the Lambda timeout: a longer invocation fails its batch and loses its container. Default 30. */
  consumerTimeoutSeconds?: number;
  /** Messages per consumer invocation, gathered over several receives (default 500, as stacks/stage.ts). */
  batchSize?: number;
  /** How long the poller keeps gathering a batch that is not full (default LOCAL_BATCHING_WINDOW_MS; poller.ts). */
  batchingWindowMs?: number;
  /**
   * Serve finance's report routes (GET /reports, GET /reports/{key+}) from this folder. Local has no IAM: they
   * answer only requests carrying `Authorization: Bearer <reportsToken>` (401 otherwise).
   */
  reportsDir?: string;
  reportsToken?: string;
  /**
   * Serve the order-status API (GET /orders/{provider}/{account}/{merchantOrderNo}, GET /orders/openapi.yaml)
   * to requests carrying `Authorization: Bearer <ordersToken>` — IAM's stand-in, as for the reports.
   */
  ordersToken?: string;
  /** Extra environment for the handlers (overrides process.env). */
  env?: Env;
  logLevel?: string;
  /**
   * Keep the queues' messages (main queue and DLQ) across a stop and a start in `<stateDir>/queues/`
   * (queue-snapshot.ts). Default true: nothing the gateway acknowledged may vanish with the emulator.
   */
  persistQueues?: boolean;
  /** Where lines for the operator go (Postgres restarts, restored messages). Default: stderr. */
  notice?: (line: string) => void;
  /** How often the queue depth is sampled for the console's chart (queue-depth-sampler.ts). Default 60 s. */
  queueDepthSampleMs?: number;
  /** Serve the console (GET /console, its login and API) for these users; needs reportsDir (console.ts). */
  console?: { users: readonly ConsoleUser[] };
}

export interface LocalStack {
  gatewayUrl: string;
  databaseUrl: string;
  queues: LocalQueues;
  sql: Sql;
  poller: Poller;
  gateway: Gateway;
  env: Env;
  logFile: string;
  logger: Logger;
  metrics: { ingress: MemoryMetrics; consumer: MemoryMetrics };
  /** The webhooks' SendMessageBatch requests and the messages in them (batching-sender.ts). */
  ingressSends: { requests: number; entries: number };
  /** The claim-check bucket's stand-in (`<stateDir>/objects`): what ingress puts, other producers put too. */
  claims: ReturnType<typeof createFolderStore>;
  /** The ingress's recent rejections by provider and reason (the operations console reads them). */
  rejections: RejectionRing;
  /** The embedded, supervised PostgreSQL (undefined with an external databaseUrl). */
  postgres: LocalPostgres | undefined;
  /** The console's URL and token issuer, when `console` was given. */
  console: (LocalConsole & { url: string }) | undefined;
  /** Waits until every message was either applied or moved to the DLQ. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

async function ensureDatabase(postgres: LocalPostgres, name: string): Promise<string> {
  const admin = createSql({ url: postgres.url, max: 1 });
  try {
    const found = await admin`select 1 from pg_database where datname = ${name}`;
    if (found.length === 0) await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  return postgres.adminUrl(name);
}

/** Stands in for the API's IAM authorizer locally: only `Authorization: Bearer <token>` reaches the routes. */
export function requireBearerToken(
  routes: Route[],
  token: string,
  refusal: { realm: string; tokenName: string } = { realm: 'payhooks-reports', tokenName: 'reportsToken' },
): Route[] {
  const expected = Buffer.from(token, 'utf8');
  const allowed = (header: string | undefined) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    const given = Buffer.from(match?.[1] ?? '', 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  return routes.map((route) => ({
    ...route,
    handler: async (event) =>
      allowed(event.headers?.authorization)
        ? route.handler(event)
        : {
            statusCode: 401,
            headers: {
              'content-type': 'application/json',
              'www-authenticate': `Bearer realm="${refusal.realm}"`,
            },
            body: JSON.stringify({
              message: `Unauthorized: send Authorization: Bearer <${refusal.tokenName} from local.json>`,
            }),
          },
  }));
}

/** A Postgres death and restart is told on the terminal and in the log. */
function reportPostgres(
  event: PostgresSupervisionEvent,
  logger: Logger,
  notice: (line: string) => void,
): void {
  if (event.type === 'exited') {
    notice(
      `embedded PostgreSQL exited (code ${event.code}, signal ${event.signal}); restarting — callbacks are still accepted and wait in the queue`,
    );
    logger.error('embedded postgres exited', event);
  } else if (event.type === 'restart-failed') {
    notice(
      `embedded PostgreSQL restart ${event.attempt} failed (${event.reason}); retrying in ${event.retryInMs} ms`,
    );
    logger.error('embedded postgres restart failed', event);
  } else {
    notice(`embedded PostgreSQL is back after ${event.downMs} ms (attempt ${event.attempt})`);
    logger.warn('embedded postgres restarted', event);
  }
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const stateDir = path.resolve(options.stateDir);
  await mkdir(path.join(stateDir, 'logs'), { recursive: true });
  const logFile = path.join(stateDir, 'logs', 'payhooks.log');
  const logger = createLogger({
    name: 'payhooks-local',
    level: options.logLevel ?? 'info',
    destination: pino.destination({ dest: logFile, sync: true, append: true }),
  });

  const notice = options.notice ?? ((line: string) => console.error(line));
  // One stack per state folder: a second start fails here, before it touches the first one's Postgres or queues.
  const lock = acquireStateLock(stateDir);
  const stoppers: (() => Promise<void>)[] = [async () => lock.release()];
  let stopping: Promise<void> | undefined;
  // Once, in reverse order of start: a second call waits for the first instead of releasing the folder's lock (a
  // later stack's by then) and stopping the parts again.
  const stop = () =>
    (stopping ??= (async () => {
      for (const stopOne of [...stoppers].reverse()) await stopOne().catch(() => {});
    })());
  // The emulator's process starts while Postgres does: child processes take a while to load on a busy machine.
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 5;
  const queuesStarting = startLocalQueues({
    visibilityTimeoutSeconds,
    maxReceiveCount: options.maxReceiveCount ?? 3,
    inChildProcess: true,
    // Our own queue service: constant work per message, and an IPC channel for the sender and the poller.
    service: 'payhooks',
  });
  queuesStarting.catch(() => {}); // awaited below
  stoppers.push(async () => (await queuesStarting).stop());
  try {
    let postgres: LocalPostgres | undefined;
    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      postgres = await startLocalPostgres({
        dataDir: path.join(stateDir, 'pgdata'),
        port: options.pgPort ?? 54320,
        fast: options.fastPostgres,
        supervise: { onEvent: (event) => reportPostgres(event, logger, notice) },
      });
      stoppers.push(() => postgres!.stop());
      databaseUrl = await ensureDatabase(postgres, 'payhooks');
    }
    const sql = createSql({ url: databaseUrl, max: 4, applicationName: 'payhooks-local' });
    stoppers.push(() => sql.end());
    await migrate(sql);

    const queues = await queuesStarting;
    if (options.persistQueues ?? true) {
      const restored = await restoreQueueSnapshot(queues, stateDir);
      if (restored.main + restored.dlq > 0) {
        notice(
          `restored ${restored.main} queued and ${restored.dlq} dead-lettered messages from ${snapshotFile(stateDir)}`,
        );
        logger.info('queue snapshot restored', restored);
      }
      // Runs after the gateway, poller and containers stopped (stoppers run in reverse): nothing is acknowledged
      // or taken any more, so what the queues hold now is everything.
      stoppers.push(async () => {
        const saved = await saveQueueSnapshot(queues, stateDir).catch((error: Error) => {
          // Said, not swallowed with the other stoppers' errors: the queues' messages end with this process.
          notice(`the queues' messages could not be saved: ${error.message}`);
          logger.error('queue snapshot failed', { error: error.message });
          return { main: 0, dlq: 0 };
        });
        if (saved.main + saved.dlq > 0) {
          notice(
            `saved ${saved.main} queued and ${saved.dlq} dead-lettered messages to ${snapshotFile(stateDir)}`,
          );
          logger.info('queue snapshot saved', saved);
        }
      });
    }

    const env: Env = {
      ...process.env,
      QUEUE_URL: queues.queueUrl,
      DLQ_URL: queues.dlqUrl,
      SQS_ENDPOINT: queues.endpoint,
      DATABASE_URL: databaseUrl,
      STRIPE_WEBHOOK_SECRETS: options.stripeWebhookSecrets.join(','),
      DB_MAX_CONNECTIONS: '1',
      ...(options.wechatpayMerchantsFile ? { WECHATPAY_MERCHANTS_FILE: options.wechatpayMerchantsFile } : {}),
      ...options.env,
    };
    // Secrets by need, as in a stage: the webhook sees only the verify part, the consumers only the decrypt
    // part; `env` (local reconciliation, sweep) keeps the full document.
    const merchantsDocument = env.WECHATPAY_MERCHANTS_FILE
      ? await readFile(env.WECHATPAY_MERCHANTS_FILE, 'utf8').catch(() => {
          throw new Error(`WECHATPAY_MERCHANTS_FILE ${env.WECHATPAY_MERCHANTS_FILE} cannot be read`);
        })
      : env.WECHATPAY_MERCHANTS;
    const parts = merchantsDocument
      ? await writeMerchantPartFiles(merchantsDocument, path.join(stateDir, 'wechatpay-merchants'))
      : undefined;
    const webhookEnv: Env = parts ? { ...withoutFullMerchants(env), ...parts.verify } : env;
    const consumerEnv: Env = parts ? { ...withoutFullMerchants(env), ...parts.decrypt } : env;
    const metrics = { ingress: new MemoryMetrics(), consumer: new MemoryMetrics() };
    // One gateway serves many callbacks at once here, where each Lambda sends its own: their SendMessages share
    // SendMessageBatch requests (batching-sender.ts), each answered only once its own entry is accepted.
    const queue = createBatchingSender({
      queueUrl: env.QUEUE_URL!,
      ...(env.SQS_ENDPOINT ? { endpoint: env.SQS_ENDPOINT } : {}),
      ...(queues.channel ? { channel: queues.channel } : {}),
    });
    stoppers.push(async () => queue.close());
    // The claim-check bucket's local stand-in: oversized bodies as files under <stateDir>/objects/claim-check/.
    const claimCheckDir = path.join(stateDir, 'objects');
    const claims = createFolderStore(claimCheckDir);
    const rejections = new RejectionRing();
    const ingressMetrics = rememberingRejections(metrics.ingress, rejections);
    // Follows `payhooks secrets add-stripe` (added-secrets.ts): no restart for a secret from `stripe listen`.
    const stripeWebhook = followAddedStripeSecrets(stateDir, env.STRIPE_WEBHOOK_SECRETS ?? '', (secrets) =>
      createStripeWebhookHandler(
        { ...env, STRIPE_WEBHOOK_SECRETS: secrets },
        { metrics: ingressMetrics, logger, queue, claims },
      ),
    );
    const wechatpayWebhook = createWechatpayWebhookHandler(webhookEnv, {
      metrics: ingressMetrics,
      logger,
      queue,
      claims,
    });
    let gatewayUrl = '';
    let localConsole: LocalConsole | undefined;
    const routes: Route[] = [
      { method: 'POST', path: '/webhooks/stripe', handler: stripeWebhook },
      { method: 'POST', path: '/webhooks/stripe/{account}', handler: stripeWebhook },
      { method: 'POST', path: '/webhooks/wechatpay', handler: wechatpayWebhook },
      { method: 'POST', path: '/webhooks/wechatpay/{merchant}', handler: wechatpayWebhook },
    ];
    if (options.reportsDir) {
      if (!options.reportsToken)
        throw new ConfigError(
          'LOCAL_NO_REPORTS_TOKEN',
          'reportsDir needs a reportsToken: the report routes are authenticated',
        );
      // Links point at the gateway's signed download route (a browser follows them from the 302), known once
      // the gateway listens.
      const links = gatewayReportLinks(() => gatewayUrl);
      routes.push(
        ...requireBearerToken(localReportRoutes(options.reportsDir, links), options.reportsToken),
        links.route(createFolderStore(options.reportsDir)),
      );
      if (options.console) {
        const reports = links.wrap(createFolderStore(options.reportsDir));
        const clock = { now: () => new Date() };
        localConsole = await startLocalConsole({
          users: options.console.users,
          api: {
            sql,
            reports,
            clock,
            logger,
            ops: {
              queues: opsQueuesOn(queues),
              queueAges: localQueueAges(queues),
              rejections,
            },
            // As in a stage: the file is kept under uploads/ and the upload function's handler reconciles it
            // without the request waiting; the page polls the upload's status.
            uploads: reconUploadsVia({
              store: reports,
              start: startUploadInBackground(
                createConsoleUploadHandler(env, { sql, store: reports, clock, logger }),
                logger,
              ),
              clock,
              stalledAfterSeconds: uploadStalledAfterSeconds(env),
            }),
            ...(env.STRIPE_ORDER_METADATA_KEY
              ? { stripeOrderMetadataKey: env.STRIPE_ORDER_METADATA_KEY }
              : {}),
          },
        });
        routes.push(...localConsole.routes);
      }
    } else if (options.console) {
      throw new ConfigError(
        'LOCAL_CONSOLE_NO_REPORTS',
        'the console needs reportsDir: it serves report downloads',
      );
    }
    if (options.ordersToken) {
      const orders = localOrderRoutes(databaseUrl);
      stoppers.push(orders.stop);
      routes.push(
        ...requireBearerToken(orders.routes, options.ordersToken, {
          realm: 'payhooks-orders',
          tokenName: 'ordersToken',
        }),
      );
    }
    const gateway = await startGateway({
      port: options.port,
      routes,
      onError: (error) => logger.error('handler threw', { error: String(error) }),
    });
    stoppers.push(() => gateway.stop());
    gatewayUrl = gateway.url;

    // Each concurrent invocation gets its own "container" — a child process with one connection, as in Lambda.
    // An invocation that outlives the function timeout fails its whole batch and its container is killed.
    const concurrency = options.consumerConcurrency ?? 2;
    const containers = startContainerPool({
      env: { ...consumerEnv, [CLAIM_CHECK_DIR_VARIABLE]: claimCheckDir },
      size: concurrency,
      timeoutMs: (options.consumerTimeoutSeconds ?? 30) * 1000,
      metrics: metrics.consumer,
      logFile,
      logLevel: options.logLevel ?? 'info',
    });
    stoppers.push(() => containers.stop());
    // Not awaited: an invocation waits for its container, as a cold start does.
    const poller = startPoller({
      queueUrl: queues.queueUrl,
      ...(queues.channel ? { channel: queues.channel } : {}),
      batchSize: options.batchSize ?? CONSUMER_BATCH_SIZE,
      batchingWindowMs: options.batchingWindowMs ?? LOCAL_BATCHING_WINDOW_MS,
      visibilityTimeoutSeconds,
      concurrency,
      // While a supervised Postgres restarts, invocations wait for it instead of failing their batches into the
      // DLQ; the batch stays invisible meanwhile (the poller renews its visibility) and the rest waits in the queue.
      handler: async (event) => {
        await postgres?.ready();
        return containers.invoke(event);
      },
      onError: (error) => logger.warn('consumer batch failed', { error: String(error) }),
    });
    stoppers.push(() => poller.stop());
    const sampler = startQueueDepthSampler({
      sql,
      queues,
      intervalMs: options.queueDepthSampleMs ?? 60_000,
      logger,
    });
    stoppers.push(() => sampler.stop());

    return {
      gatewayUrl: gateway.url,
      databaseUrl,
      queues,
      sql,
      poller,
      gateway,
      env,
      logFile,
      logger,
      metrics,
      ingressSends: queue.stats,
      claims,
      rejections,
      postgres,
      console: localConsole ? { ...localConsole, url: `${gateway.url}/console` } : undefined,
      async drain() {
        for (;;) {
          await poller.idle();
          if ((await queues.depth(queues.queueUrl)) === 0) return;
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

// `payhooks secrets add-stripe` writes what the gateway follows.
export { ADDED_STRIPE_SECRETS_FILE, addStripeSecret } from './added-secrets.ts';
// The CLI reaches the local runtime through this module only (package exports): its doctor runs these checks.
export { localDoctorChecks, type PreflightCheck } from './preflight.ts';
