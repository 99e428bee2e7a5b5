// Where the CLI points: the local stack (from .payhooks/local.json while `npm start` runs) or a deployed stage
// (QUEUE_URL / DLQ_URL / DATABASE_URL … from the environment, e.g. `npx sst bind` or exported outputs).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError } from '@payhooks/core/errors';

export interface Target {
  queueUrl: string;
  dlqUrl: string;
  sqs: SQSClient;
  databaseUrl?: string;
  reportsDir?: string;
  wechatpayMerchantsFile?: string;
  /** Stripe API base and key: the provider sandbox locally, api.stripe.com with STRIPE_API_KEY otherwise. */
  stripeApiBaseUrl?: string;
  stripeApiKey?: string;
  /** WeChat Pay merchant API base: the provider sandbox locally. */
  wechatpayApiBaseUrl?: string;
  local: boolean;
}

export function resolveTarget(env: NodeJS.ProcessEnv = process.env): Target {
  const localFile = path.resolve(env.PAYHOOKS_STATE_DIR ?? '.payhooks', 'local.json');
  if (!env.QUEUE_URL && existsSync(localFile)) {
    const local = readLocalJson(localFile);
    return {
      queueUrl: local.queueUrl!,
      dlqUrl: local.dlqUrl!,
      sqs: new SQSClient({
        region: 'us-east-1',
        endpoint: local.sqsEndpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
      databaseUrl: local.databaseUrl,
      reportsDir: local.reportsDir,
      wechatpayMerchantsFile: local.wechatpayMerchantsFile,
      stripeApiBaseUrl: local.providerApiUrl,
      stripeApiKey: env.STRIPE_API_KEY ?? local.stripeApiKey,
      wechatpayApiBaseUrl: local.providerApiUrl,
      local: true,
    };
  }
  if (!env.QUEUE_URL || !env.DLQ_URL) {
    throw new ConfigError(
      'CLI_NO_TARGET',
      'no target: start the local stack (npm start) or set QUEUE_URL and DLQ_URL for a deployed stage',
    );
  }
  return {
    queueUrl: env.QUEUE_URL,
    dlqUrl: env.DLQ_URL,
    sqs: new SQSClient(env.SQS_ENDPOINT ? { endpoint: env.SQS_ENDPOINT } : {}),
    databaseUrl: env.DATABASE_URL,
    reportsDir: env.REPORTS_DIR,
    wechatpayMerchantsFile: env.WECHATPAY_MERCHANTS_FILE,
    stripeApiKey: env.STRIPE_API_KEY,
    local: false,
  };
}

/**
 * local.json as `npm start` wrote it — valid, and its stack still running (payhooks.lock beside it names a live
 * process); otherwise one line saying so instead of a JSON error or a connection refused further on. Commands that
 * only read the state folder (the reports) pass `requireRunning: false`.
 */
export function readLocalJson(file: string, requireRunning = true): Record<string, string> {
  let local: Record<string, string>;
  try {
    local = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    throw new ConfigError(
      'CLI_BAD_LOCAL_JSON',
      `${file} is not valid JSON: delete it and run npm start again`,
    );
  }
  if (!requireRunning) return local;
  const missing = ['queueUrl', 'dlqUrl', 'sqsEndpoint'].filter((key) => typeof local[key] !== 'string');
  if (missing.length > 0)
    throw new ConfigError(
      'CLI_BAD_LOCAL_JSON',
      `${file} lacks ${missing.join(', ')}: delete it and run npm start again`,
    );
  if (!stackRuns(path.dirname(file)))
    throw new ConfigError(
      'CLI_STALE_LOCAL_JSON',
      `${file} is stale: no local stack runs on ${path.dirname(file)} (start one with npm start, or delete the file)`,
    );
  return local;
}

function stackRuns(stateDir: string): boolean {
  try {
    const { pid } = JSON.parse(readFileSync(path.join(stateDir, 'payhooks.lock'), 'utf8')) as { pid: number };
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
