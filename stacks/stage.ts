// Stage-dependent settings in one place: every stack reads its sizes, retention and removal rules from here,
// so "what differs between dev and prod" is answered by one file.
import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

export const PROD_STAGE = 'prod';

export interface StageSettings {
  readonly stage: string;
  readonly isProd: boolean;
  /** Removal policy of stateful resources (database, its secret, the reports bucket, log groups). */
  readonly removal: RemovalPolicy;
  readonly logRetention: RetentionDays;
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
    readonly rateLimit: number;
    readonly burstLimit: number;
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

/**
 * DB connections other than the consumer's, one per container: migrate, two recon jobs, the sweep, and the
 * operations function (reserved concurrency 2, stacks/Operations.ts).
 */
const OTHER_DB_CLIENTS = 4 + 2;

export function stageSettings(stage: string): StageSettings {
  const isProd = stage === PROD_STAGE;
  const consumerMaxConcurrency = isProd ? 10 : 2;
  const expectedClients = consumerMaxConcurrency + OTHER_DB_CLIENTS;
  return {
    stage,
    isProd,
    removal: isProd ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    logRetention: isProd ? RetentionDays.ONE_YEAR : RetentionDays.ONE_WEEK,
    network: isProd ? { nat: 'gateway', natCount: 2 } : { nat: 'instance', natCount: 1 },
    database: isProd
      ? { minAcu: 1, maxAcu: 16, readers: 1, backupRetentionDays: 35, deletionProtection: true }
      : { minAcu: 0.5, maxAcu: 2, readers: 0, backupRetentionDays: 1, deletionProtection: false },
    consumer: {
      timeoutSeconds: 30,
      // Provisional: the set-based apply commits a whole batch in a handful of round trips, so bigger batches
      // cost little per event; the final numbers come from the consumer bench (docs/decisions.md).
      batchSize: 100,
      batchWindowSeconds: 1,
      maxConcurrency: consumerMaxConcurrency,
    },
    // Below the DLQ's 14 days: a message keeps its original enqueue time when it moves to the DLQ.
    queue: { maxReceiveCount: 5, retentionDays: 4 },
    api: isProd ? { rateLimit: 500, burstLimit: 1000 } : { rateLimit: 20, burstLimit: 50 },
    reports: isProd
      ? { infrequentAccessAfterDays: 90, expireAfterDays: 7 * 365 + 2 }
      : { expireAfterDays: 30 },
    alarms: {
      oldestMessageAgeSeconds: isProd ? 300 : 900,
      serverErrorRatePercent: 1,
      clientErrorRatePercent: 25,
      clientErrorMinRequests: 20,
      // Headroom of 50 % over the designed bound: more means connections leak or concurrency is not capped.
      proxyClientConnections: Math.ceil(expectedClients * 1.5),
      databaseConnections: isProd ? 100 : 40,
      ledgerLagP99Ms: 5_000,
    },
  };
}
