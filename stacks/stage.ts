// Stage-dependent settings in one place: every stack reads its sizes, retention and removal rules from here.
// What a stage is (live or test, retention, protection, capacity, throttles) is declared in stacks/stages.ts;
// this file derives the settings from that declaration, never from the stage's name.
import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CONSUMER_BATCH_SIZE, CONSUMER_BATCH_WINDOW_SECONDS } from './consumer-batch.ts';
import { declarationOf, type StageDeclaration, type StageMode, type Throttle } from './stages.ts';

/** The stage this project calls production by default; only its declaration in stacks/stages.ts makes it live. */
export const PROD_STAGE = 'prod';

export interface StageSettings {
  readonly stage: string;
  readonly mode: StageMode;
  /** mode === 'live': books live-mode Stripe events (STRIPE_LIVEMODE=true) and must hold live keys. */
  readonly live: boolean;
  /** false: the stage is not in stacks/stages.ts and was given the removable test declaration. */
  readonly declared: boolean;
  /** The database, secrets, reports bucket and log groups survive `sst remove`. */
  readonly retained: boolean;
  /**
   * Same as `live` (the name predates stage declarations; kept so code written against it still reads right).
   * Prefer `live` for mode and `retained` for removal.
   */
  readonly isProd: boolean;
  readonly declaration: StageDeclaration;
  /** The stage takes WeChat Pay (its declaration's providers; default both): its functions and grants exist. */
  readonly wechatpay: boolean;
  /** Removal policy of stateful resources (database, its secret, the reports bucket, log groups). */
  readonly removal: RemovalPolicy;
  readonly logRetention: RetentionDays;
  /** The same retention as SST's constructs name it (e.g. `one_week`), for the API access log. */
  readonly logRetentionName: Lowercase<keyof typeof RetentionDays>;
  readonly network: {
    /** `instance`: one t4g.nano NAT instance (~3 USD/month); `gateway`: managed NAT gateways (one per AZ). */
    readonly nat: 'instance' | 'gateway';
    readonly natCount: number;
  };
  readonly database: {
    readonly minAcu: number;
    readonly maxAcu: number;
    readonly readers: number;
    readonly backupRetentionDays: number;
    readonly deletionProtection: boolean;
  };
  readonly consumer: {
    readonly timeoutSeconds: number;
    /** Records per invocation of the SQS event source (above 10 needs a batching window of at least 1 s). */
    readonly batchSize: number;
    /** The event source's MaximumBatchingWindowInSeconds: how long it gathers records before invoking. */
    readonly batchWindowSeconds: number;
    /** Upper bound of concurrent consumer invocations = upper bound of consumer DB connections. */
    readonly maxConcurrency: number;
  };
  readonly queue: {
    readonly maxReceiveCount: number;
    /** The main queue keeps messages this long; the DLQ keeps them 14 days, the SQS maximum. */
    readonly retentionDays: number;
  };
  readonly api: {
    /** The webhook routes' throttle: the stage's default route settings. */
    readonly rateLimit: number;
    readonly burstLimit: number;
    /** Per-route throttles (stacks/stages.ts `throttle`). */
    readonly webhooks: Throttle;
    readonly reports: Throttle;
  };
  readonly reports: {
    /** Absent: small stages keep reports too briefly for a storage-class transition to pay off. */
    readonly infrequentAccessAfterDays?: number;
    readonly expireAfterDays: number;
  };
  readonly alarms: {
    readonly oldestMessageAgeSeconds: number;
    readonly serverErrorRatePercent: number;
    readonly clientErrorRatePercent: number;
    /** Below this many requests per period the 4xx rate alarm stays quiet (a lone probe is not an incident). */
    readonly clientErrorMinRequests: number;
    readonly proxyClientConnections: number;
    readonly databaseConnections: number;
    /** p99 of LedgerLag (provider event time → ledger commit) above this many milliseconds alarms. */
    readonly ledgerLagP99Ms: number;
  };
}

/** Functions whose cold start (or, for preflight, the deploy) runs the stage guard: the StageRefused alarm. */
export const STAGE_GUARDED_SERVICES = [
  'preflight',
  'stripe-webhook',
  'recon-stripe',
  'consumer',
  'wechatpay-webhook',
  'recon-wechatpay',
  'sweep-wechatpay',
] as const;

/**
 * DB connections other than the consumer's, one per container: migrate, two recon jobs, the sweep, the Stripe
 * revalidator, the raw-payload purge, and the operations function (reserved concurrency 2, stacks/Operations.ts).
 */
const OTHER_DB_CLIENTS = 4 + 2 + 2;

export function stageSettings(stage: string): StageSettings {
  const { declaration, declared } = declarationOf(stage);
  const live = declaration.mode === 'live';
  const retained = declaration.removal === 'retain';
  const { capacity } = declaration;
  const consumerMaxConcurrency = capacity.consumerMaxConcurrency;
  const expectedClients = consumerMaxConcurrency + OTHER_DB_CLIENTS;
  return {
    stage,
    mode: declaration.mode,
    live,
    declared,
    retained,
    isProd: live,
    declaration,
    wechatpay: (declaration.providers ?? ['stripe', 'wechatpay']).includes('wechatpay'),
    removal: retained ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    // RetentionDays' values are the day counts themselves.
    logRetention: declaration.logRetentionDays as RetentionDays,
    logRetentionName: retentionName(declaration.logRetentionDays),
    network: { nat: capacity.nat.kind, natCount: capacity.nat.count },
    database: {
      minAcu: capacity.database.minAcu,
      maxAcu: capacity.database.maxAcu,
      readers: capacity.database.readers,
      backupRetentionDays: declaration.backupRetentionDays,
      deletionProtection: declaration.deletionProtection,
    },
    consumer: {
      timeoutSeconds: 30,
      batchSize: CONSUMER_BATCH_SIZE,
      batchWindowSeconds: CONSUMER_BATCH_WINDOW_SECONDS,
      maxConcurrency: consumerMaxConcurrency,
    },
    // Below the DLQ's 14 days: a message keeps its original enqueue time when it moves to the DLQ.
    queue: { maxReceiveCount: 5, retentionDays: 4 },
    api: {
      rateLimit: declaration.throttle.webhooks.rate,
      burstLimit: declaration.throttle.webhooks.burst,
      webhooks: declaration.throttle.webhooks,
      reports: declaration.throttle.reports,
    },
    reports: retained
      ? { infrequentAccessAfterDays: 90, expireAfterDays: 7 * 365 + 2 }
      : { expireAfterDays: 30 },
    alarms: {
      oldestMessageAgeSeconds: live ? 300 : 900,
      serverErrorRatePercent: 1,
      clientErrorRatePercent: 25,
      clientErrorMinRequests: 20,
      // Headroom of 50 % over the designed bound: more means connections leak or concurrency is not capped.
      proxyClientConnections: Math.ceil(expectedClients * 1.5),
      databaseConnections: capacity.databaseConnectionsAlarm,
      ledgerLagP99Ms: 5_000,
    },
  };
}

function retentionName(days: number): Lowercase<keyof typeof RetentionDays> {
  const entry = Object.entries(RetentionDays).find(([, value]) => value === days);
  if (!entry)
    throw new Error(`stacks/stages.ts: logRetentionDays ${days} is not a CloudWatch Logs retention`);
  return entry[0].toLowerCase() as Lowercase<keyof typeof RetentionDays>;
}
