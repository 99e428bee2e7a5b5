// Where the CLI points: a deployed stage (`--stage NAME`: resources from the stage's stack outputs, the database
// and providers only through its operations function), the local stack (.payhooks/local.json while `npm start`
// runs), or explicit environment variables (QUEUE_URL / DLQ_URL / DATABASE_URL …, e.g. a bastion with
// `npx sst bind`).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError } from '@payhooks/core/errors';
import { lambdaOperations, type OperationsPort } from './stage/operations.ts';
import { cloudFormationStackOutputs, findStage, type StackOutputs } from './stage/stack-outputs.ts';

export interface Target {
  kind: 'local' | 'stage' | 'environment';
  /** For messages: "local stack", "stage prod", "environment". */
  label: string;
  queueUrl: string;
  dlqUrl: string;
  sqs: SQSClient;
  databaseUrl?: string;
  reportsDir?: string;
  /** The local stack's claim-check folder (`<stateDir>/objects`): backfill stores oversized events there. */
  claimCheckDir?: string;
  /** The stage's reports bucket (SDK access with the operator's credentials). */
  reportsBucket?: string;
  wechatpayMerchantsFile?: string;
  /** Stripe API base and key: the provider sandbox locally, api.stripe.com with STRIPE_API_KEY otherwise. */
  stripeApiBaseUrl?: string;
  stripeApiKey?: string;
  /** WeChat Pay merchant API base: the provider sandbox locally. */
  wechatpayApiBaseUrl?: string;
  /** A stage's operations function: everything that needs the database or the providers. */
  operations?: OperationsPort;
  region?: string;
  local: boolean;
}

/** Options every command accepts (before or after the command name). */
export interface CliGlobals {
  stage?: string;
  region?: string;
  json?: boolean;
}

/** How a stage is reached; tests replace these with the SQS emulator, given outputs and the handler itself. */
export interface StagePorts {
  stackOutputs(region: string | undefined): StackOutputs;
  operations(functionName: string, region: string | undefined): OperationsPort;
  sqs(region: string | undefined): SQSClient;
}

export const awsStagePorts: StagePorts = {
  stackOutputs: cloudFormationStackOutputs,
  operations: lambdaOperations,
  sqs: (region) => new SQSClient(region ? { region } : {}),
};

export function localStateFile(env: NodeJS.ProcessEnv): string {
  return path.resolve(env.PAYHOOKS_STATE_DIR ?? '.payhooks', 'local.json');
}

export async function resolveTarget(
  globals: CliGlobals = {},
  env: NodeJS.ProcessEnv = process.env,
  ports: StagePorts = awsStagePorts,
): Promise<Target> {
  if (globals.stage) {
    const region = globals.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    const stage = await findStage(globals.stage, ports.stackOutputs(region), region);
    return {
      kind: 'stage',
      label: `stage ${stage.stage}`,
      queueUrl: stage.queueUrl,
      dlqUrl: stage.dlqUrl,
      sqs: ports.sqs(region),
      reportsBucket: stage.reportsBucket,
      operations: ports.operations(stage.operationsFunction, region),
      ...(region ? { region } : {}),
      local: false,
    };
  }
  return resolveEnvironmentTarget(env);
}

/** The local stack or explicit environment variables (no `--stage`). */
export function resolveEnvironmentTarget(env: NodeJS.ProcessEnv = process.env): Target {
  const localFile = localStateFile(env);
  if (!env.QUEUE_URL && existsSync(localFile)) {
    const local = readLocalJson(localFile);
    return {
      kind: 'local',
      label: 'local stack',
      queueUrl: local.queueUrl!,
      dlqUrl: local.dlqUrl!,
      sqs: new SQSClient({
        region: 'us-east-1',
        endpoint: local.sqsEndpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
      databaseUrl: local.databaseUrl,
      reportsDir: local.reportsDir,
      claimCheckDir: path.join(path.dirname(localFile), 'objects'),
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
      'no target: start the local stack (npm start), pass --stage NAME, or set QUEUE_URL and DLQ_URL',
    );
  }
  return {
    kind: 'environment',
    label: 'environment',
    queueUrl: env.QUEUE_URL,
    dlqUrl: env.DLQ_URL,
    sqs: new SQSClient(env.SQS_ENDPOINT ? { endpoint: env.SQS_ENDPOINT } : {}),
    databaseUrl: env.DATABASE_URL,
    reportsDir: env.REPORTS_DIR,
    ...(env.REPORTS_BUCKET ? { reportsBucket: env.REPORTS_BUCKET } : {}),
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
