// Monitoring: every alarm of design rule 9, all notifying the Alerts topic. Custom metrics (unhealed breaks, ledger lag)
// come from the handlers as CloudWatch embedded-metric log lines (adapters/metrics.ts; namespace payhooks/<stage>,
// dimension service).
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type StackContext, use } from 'sst/constructs';
import { Alerts } from './Alerts.ts';
import { Api } from './Api.ts';
import { certificateAlarms } from './Certificates.ts';
import { Database } from './Database.ts';
import { metricsNamespace } from './functions.ts';
import { Queue } from './Queue.ts';
import { Reconciliation } from './Reconciliation.ts';
import { STAGE_GUARDED_SERVICES, stageSettings } from './stage.ts';

const FIVE_MINUTES = Duration.minutes(5);

/** Services a Stripe-only stage does not deploy (stacks/stages.ts `providers`): no alarms for them. */
const WECHATPAY_SERVICES: ReadonlySet<string> = new Set([
  'wechatpay-webhook',
  'recon-wechatpay',
  'sweep-wechatpay',
  'certificates-wechatpay',
]);

export function Monitoring({ stack, app }: StackContext) {
  const settings = stageSettings(app.stage);
  const { topic } = use(Alerts);
  const { queue, deadLetterQueue, consumer } = use(Queue);
  const { api } = use(Api);
  const { cluster, proxy } = use(Database);
  const {
    reconWechatpay,
    reconStripe,
    sweepWechatpay,
    revalidateStripe,
    certificatesWechatpay,
    purgeRawPayloads,
    consistencyStripe,
    consistencyWechatpay,
  } = use(Reconciliation);
  const alarmAction = new actions.SnsAction(topic);

  function alarm(id: string, description: string, props: cloudwatch.AlarmProps) {
    const created = new cloudwatch.Alarm(stack, id, {
      alarmDescription: description,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    created.addAlarmAction(alarmAction);
    created.addOkAction(alarmAction);
    return created;
  }
  const atLeastOne = {
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
  };

  alarm('DeadLetterQueueDepth', 'Events are in the DLQ: inspect and replay (npm run cli -- dlq replay)', {
    metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    }),
    ...atLeastOne,
  });
  alarm('QueueOldestMessageAge', 'The consumer is not keeping up or is failing (oldest message age)', {
    metric: queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
    threshold: settings.alarms.oldestMessageAgeSeconds,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 5,
  });

  const httpApi = api.cdk.httpApi;
  const requests = httpApi.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' });
  alarm('Ingress5xxRate', 'Webhook ingress answers 5xx (enqueue failing?) — providers will retry', {
    metric: new cloudwatch.MathExpression({
      label: '5xx %',
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: {
        errors: httpApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        requests,
      },
      period: FIVE_MINUTES,
    }),
    threshold: settings.alarms.serverErrorRatePercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
  });
  alarm('Ingress4xxRate', 'Many callbacks rejected (rotated secret? probing?)', {
    metric: new cloudwatch.MathExpression({
      label: '4xx %',
      expression: `IF(requests >= ${settings.alarms.clientErrorMinRequests}, 100 * errors / requests, 0)`,
      usingMetrics: {
        errors: httpApi.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        requests,
      },
      period: FIVE_MINUTES,
    }),
    threshold: settings.alarms.clientErrorRatePercent,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 2,
  });

  alarm('ConsumerErrors', 'The consumer failed whole invocations (not partial batch failures)', {
    metric: consumer.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
    ...atLeastOne,
  });
  for (const [id, fn] of [
    ['ReconWechatpayFailed', reconWechatpay],
    ['ReconStripeFailed', reconStripe],
    ['SweepWechatpayFailed', sweepWechatpay],
    ['RevalidateStripeFailed', revalidateStripe],
  ] as const) {
    // WeChat Pay's jobs are absent on a Stripe-only stage.
    if (!fn) continue;
    alarm(id, `${id}: the scheduled job threw; re-run with npm run cli -- recon run`, {
      metric: fn.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
      ...atLeastOne,
    });
  }
  for (const [id, service] of [
    ['ReconWechatpayUnhealedBreaks', 'recon-wechatpay'],
    ['ReconStripeUnhealedBreaks', 'recon-stripe'],
  ] as const) {
    if (!settings.wechatpay && WECHATPAY_SERVICES.has(service)) continue;
    alarm(id, `${service} reported breaks that backfill could not heal: see breaks.csv`, {
      metric: new cloudwatch.Metric({
        namespace: metricsNamespace(app.stage),
        metricName: 'UnhealedBreaks',
        dimensionsMap: { service },
        period: Duration.hours(1),
        statistic: 'Maximum',
      }),
      ...atLeastOne,
    });
  }

  // Consistency sampling: drift above the resync threshold (0.5 % of a sample) in any account, or a failed run.
  const samplers = [
    ['ConsistencyStripe', 'consistency-stripe', consistencyStripe],
    ['ConsistencyWechatpay', 'consistency-wechatpay', consistencyWechatpay],
  ] as const;
  for (const [id, service, fn] of samplers) {
    if (!fn) continue;
    alarm(
      `${id}Drift`,
      `${service}: ledger or mirror drifted from the provider above 0.5 %; resynced, see its log`,
      {
        metric: new cloudwatch.MathExpression({
          expression: `SELECT MAX(ConsistencyDrift) FROM "${metricsNamespace(app.stage)}" WHERE service = '${service}'`,
          // Metrics Insights alarms look back at most 3 hours: the 6-hourly sample alarms in the hour it reports.
          period: Duration.hours(1),
          label: `${service} drift (percent)`,
        }),
        threshold: 0.5,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      },
    );
    alarm(`${id}Failed`, `${id}: the sampling run threw; see its log`, {
      metric: fn.metricErrors({ period: Duration.hours(6), statistic: 'Sum' }),
      ...atLeastOne,
    });
  }

  alarm('PurgeRawPayloadsFailed', 'The raw_payload purge threw: see its log (the next daily run continues)', {
    metric: purgeRawPayloads.metricErrors({ period: Duration.hours(24), statistic: 'Sum' }),
    ...atLeastOne,
  });
  if (certificatesWechatpay)
    for (const [id, description, props] of certificateAlarms(app.stage, certificatesWechatpay))
      alarm(id, description, props);

  alarm('LedgerLag', 'Events reach the ledger late (p99 of provider event time → batch commit)', {
    metric: new cloudwatch.Metric({
      namespace: metricsNamespace(app.stage),
      metricName: 'LedgerLag',
      dimensionsMap: { service: 'consumer' },
      unit: cloudwatch.Unit.MILLISECONDS,
      period: FIVE_MINUTES,
      statistic: 'p99',
    }),
    threshold: settings.alarms.ledgerLagP99Ms,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 2,
  });

  // The stage guard refused to run (the deploy-time preflight, or a guarded function's cold start): one alarm per
  // service, as the metric carries the service dimension.
  for (const service of STAGE_GUARDED_SERVICES) {
    if (!settings.wechatpay && WECHATPAY_SERVICES.has(service)) continue;
    alarm(
      `StageRefused-${service}`,
      `${service} refused to run: stage keys do not match the declared mode, or a secret is missing (log: "stage refused")`,
      {
        metric: new cloudwatch.Metric({
          namespace: metricsNamespace(app.stage),
          metricName: 'StageRefused',
          dimensionsMap: { service },
          period: FIVE_MINUTES,
          statistic: 'Sum',
        }),
        ...atLeastOne,
      },
    );
  }

  const proxyMetric = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/RDS',
      metricName,
      dimensionsMap: { ProxyName: proxy.dbProxyName },
      period: Duration.minutes(1),
      statistic: 'Maximum',
    });
  alarm(
    'ProxyPinnedSessions',
    'Sessions pinned at the RDS Proxy: some code uses session state (design rule 7)',
    {
      metric: proxyMetric('DatabaseConnectionsCurrentlySessionPinned'),
      ...atLeastOne,
    },
  );
  alarm('ProxyClientConnections', 'More client connections than the concurrency caps allow', {
    metric: proxyMetric('ClientConnections'),
    threshold: settings.alarms.proxyClientConnections,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
  });
  alarm('DatabaseConnections', 'Connections to Aurora above the expected pool size', {
    metric: cluster.metricDatabaseConnections({ period: Duration.minutes(1), statistic: 'Maximum' }),
    threshold: settings.alarms.databaseConnections,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
  });
}
