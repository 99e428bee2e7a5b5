// Composes the local runtime: Postgres (embedded or external), the SQS emulator with a DLQ, the HTTP gateway
// in front of the Lambda handler modules, and the poller playing the event-source mapping. `npm start` and
// the end-to-end tests both run on this.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createSql, migrate, type Sql } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import type { Logger } from '@payhooks/core/ports';
import { sqlFromEnv } from '@payhooks/functions/adapters/db';
import { MemoryMetrics } from '@payhooks/functions/adapters/metrics';
import type { Env } from '@payhooks/functions/config';
import { createConsumerHandler } from '@payhooks/functions/consumer';
import { createStripeWebhookHandler } from '@payhooks/functions/stripe-webhook';
import { createWechatpayWebhookHandler } from '@payhooks/functions/wechatpay-webhook';
import pino from 'pino';
import { type Gateway, type Route, startGateway } from './gateway.ts';
import { type Poller, startPoller } from './poller.ts';
import { type LocalPostgres, startLocalPostgres } from './postgres.ts';
import { type LocalQueues, startLocalQueues } from './sqs.ts';

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
  batchSize?: number;
  /** Extra environment for the handlers (overrides process.env). */
  env?: Env;
  logLevel?: string;
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

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const stateDir = path.resolve(options.stateDir);
  await mkdir(path.join(stateDir, 'logs'), { recursive: true });
  const logFile = path.join(stateDir, 'logs', 'payhooks.log');
  const logger = createLogger({
    name: 'payhooks-local',
    level: options.logLevel ?? 'info',
    destination: pino.destination({ dest: logFile, sync: true, append: true }),
  });

  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stoppers.reverse()) await stopOne().catch(() => {});
  };
  try {
    let postgres: LocalPostgres | undefined;
    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      postgres = await startLocalPostgres({ dataDir: path.join(stateDir, 'pgdata'), port: options.pgPort ?? 54320, fast: options.fastPostgres });
      stoppers.push(() => postgres!.stop());
      databaseUrl = await ensureDatabase(postgres, 'payhooks');
    }
    const sql = createSql({ url: databaseUrl, max: 4, applicationName: 'payhooks-local' });
    stoppers.push(() => sql.end());
    await migrate(sql);

    const queues = await startLocalQueues({
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 5,
      maxReceiveCount: options.maxReceiveCount ?? 3,
    });
    stoppers.push(() => queues.stop());

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
    const metrics = { ingress: new MemoryMetrics(), consumer: new MemoryMetrics() };
    const stripeWebhook = createStripeWebhookHandler(env, { metrics: metrics.ingress, logger });
    const wechatpayWebhook = createWechatpayWebhookHandler(env, { metrics: metrics.ingress, logger });
    const routes: Route[] = [
      { method: 'POST', path: '/webhooks/stripe', handler: stripeWebhook },
      { method: 'POST', path: '/webhooks/stripe/{account}', handler: stripeWebhook },
      { method: 'POST', path: '/webhooks/wechatpay', handler: wechatpayWebhook },
      { method: 'POST', path: '/webhooks/wechatpay/{merchant}', handler: wechatpayWebhook },
    ];
    const gateway = await startGateway({
      port: options.port,
      routes,
      onError: (error) => logger.error('handler threw', { error: String(error) }),
    });
    stoppers.push(() => gateway.stop());

    // Each concurrent invocation gets its own "container" with one connection, as in Lambda.
    const concurrency = options.consumerConcurrency ?? 2;
    const containers = Array.from({ length: concurrency }, () => {
      const containerSql = sqlFromEnv(env, 'payhooks-consumer');
      stoppers.push(() => containerSql.end());
      return createConsumerHandler(env, { sql: containerSql, metrics: metrics.consumer, logger });
    });
    let nextContainer = 0;
    const poller = startPoller({
      client: queues.client,
      queueUrl: queues.queueUrl,
      batchSize: options.batchSize ?? 10,
      concurrency,
      handler: (event) => containers[nextContainer++ % containers.length]!(event),
      onError: (error) => logger.warn('consumer batch failed', { error: String(error) }),
    });
    stoppers.push(() => poller.stop());

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
