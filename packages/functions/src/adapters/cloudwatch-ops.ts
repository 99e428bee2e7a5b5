// The console's operations metrics in a stage, read from CloudWatch with GetMetricData (the only CloudWatch action
// the console API may call): the age of each queue's oldest message — SQS publishes ApproximateAgeOfOldestMessage
// per queue, GetQueueAttributes has no such attribute — and recent ingress rejections, the CallbackRejected count
// the webhooks emit through EMF {service, provider, reason}, summed per provider and reason by one Metrics Insights
// query (reasons are open-ended: no list of them to ask for one by one). The SDK call is behind `GetMetricData`,
// so tests give a fake for the control plane only.
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import type {
  OldestMessageAge,
  QueueAges,
  QueueDepthHistory,
  QueueDepthSample,
  RecentRejections,
  RejectionCount,
} from '@payhooks/console/api';
import { ConfigError } from '@payhooks/core/errors';
import type { Clock } from '@payhooks/core/ports';

/** One GetMetricData call: the SDK's (`sdkGetMetricData`), or a test's fake. */
export type GetMetricData = (
  input: GetMetricDataCommandInput,
) => Promise<{ MetricDataResults?: MetricDataResult[]; NextToken?: string | undefined }>;

export function sdkGetMetricData(client: CloudWatchClient = new CloudWatchClient({})): GetMetricData {
  return (input) => client.send(new GetMetricDataCommand(input));
}

/** Every result of a query, following NextToken. */
async function allResults(
  getMetricData: GetMetricData,
  input: GetMetricDataCommandInput,
): Promise<MetricDataResult[]> {
  const results: MetricDataResult[] = [];
  let token: string | undefined;
  do {
    const page = await getMetricData({ ...input, ...(token ? { NextToken: token } : {}) });
    results.push(...(page.MetricDataResults ?? []));
    token = page.NextToken;
  } while (token);
  return results;
}

/** The queue's name, the dimension SQS publishes its metrics under: the last segment of its URL. */
export function queueNameOf(queueUrl: string): string {
  const name = URL.canParse(queueUrl)
    ? new URL(queueUrl).pathname.split('/').filter(Boolean).at(-1)
    : undefined;
  if (!name) throw new ConfigError('CONFIG_INVALID', `not an SQS queue URL: "${queueUrl}"`);
  return name;
}

/** SQS's metrics arrive per minute, a few minutes late: the newest datapoint of this window is the current age. */
const AGE_WINDOW_MINUTES = 15;

export function cloudwatchQueueAges(options: {
  getMetricData: GetMetricData;
  queueUrl: string;
  dlqUrl: string;
  clock: Clock;
}): QueueAges {
  const queues = { main: queueNameOf(options.queueUrl), dlq: queueNameOf(options.dlqUrl) };
  return {
    async oldestMessageAge() {
      const end = options.clock.now();
      const results = await allResults(options.getMetricData, {
        StartTime: new Date(end.getTime() - AGE_WINDOW_MINUTES * 60_000),
        EndTime: end,
        ScanBy: 'TimestampDescending',
        MetricDataQueries: Object.entries(queues).map(([id, name]) => ({
          Id: id,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/SQS',
              MetricName: 'ApproximateAgeOfOldestMessage',
              Dimensions: [{ Name: 'QueueName', Value: name }],
            },
            Period: 60,
            Stat: 'Maximum',
          },
        })),
      });
      const newest = (id: string): OldestMessageAge | null => {
        const points = results
          .filter((r) => r.Id === id)
          .flatMap((r) => (r.Timestamps ?? []).map((t, i) => ({ at: new Date(t), seconds: r.Values?.[i] })))
          .filter((p): p is { at: Date; seconds: number } => typeof p.seconds === 'number');
        const last = points.sort((a, b) => b.at.getTime() - a.at.getTime())[0];
        return last ? { seconds: last.seconds, at: last.at.toISOString() } : null;
      };
      return { main: newest('main'), dlq: newest('dlq') };
    },
  };
}

/** SQS's three depth metrics, and the sample field each fills. */
const DEPTH_METRICS = [
  ['visible', 'ApproximateNumberOfMessagesVisible'],
  ['inFlight', 'ApproximateNumberOfMessagesNotVisible'],
  ['delayed', 'ApproximateNumberOfMessagesDelayed'],
] as const;
/** Five-minute points: 6 hours are 72 per series, 48 hours 576 (GetMetricData answers up to 100,800 per call). */
const DEPTH_PERIOD_SECONDS = 300;

/**
 * The depth chart in a stage, where no sampler writes queue_depth_samples: SQS's own depth metrics per queue, the
 * maximum of each five-minute period, one sample per queue and period that has any of them.
 */
export function cloudwatchQueueDepthHistory(options: {
  getMetricData: GetMetricData;
  queueUrl: string;
  dlqUrl: string;
  clock: Clock;
}): QueueDepthHistory {
  const queues = { main: queueNameOf(options.queueUrl), dlq: queueNameOf(options.dlqUrl) } as const;
  return {
    async since(since) {
      const results = await allResults(options.getMetricData, {
        StartTime: since,
        EndTime: options.clock.now(),
        ScanBy: 'TimestampAscending',
        MetricDataQueries: Object.entries(queues).flatMap(([queue, name]) =>
          DEPTH_METRICS.map(([field, metric]) => ({
            Id: `${queue}_${field}`,
            ReturnData: true,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/SQS',
                MetricName: metric,
                Dimensions: [{ Name: 'QueueName', Value: name }],
              },
              Period: DEPTH_PERIOD_SECONDS,
              Stat: 'Maximum',
            },
          })),
        ),
      });
      const samples = new Map<string, QueueDepthSample>();
      for (const result of results) {
        const [queue, field] = (result.Id ?? '').split('_') as [
          'main' | 'dlq',
          (typeof DEPTH_METRICS)[number][0],
        ];
        if (!(queue in queues) || !DEPTH_METRICS.some(([f]) => f === field)) continue;
        for (const [i, value] of (result.Values ?? []).entries()) {
          const at = result.Timestamps?.[i];
          if (typeof value !== 'number' || !at) continue;
          const iso = new Date(at).toISOString();
          const key = `${queue} ${iso}`;
          const sample = samples.get(key) ?? { queue, at: iso, visible: 0, inFlight: 0, delayed: 0 };
          sample[field] = value;
          samples.set(key, sample);
        }
      }
      return [...samples.values()].sort((a, b) => a.queue.localeCompare(b.queue) || a.at.localeCompare(b.at));
    },
  };
}

/** The Metrics Insights query: CallbackRejected summed per provider and reason, most frequent first. */
export function rejectionsQuery(namespace: string): string {
  if (!/^[\w./#:-]+$/.test(namespace))
    throw new ConfigError(
      'CONFIG_INVALID',
      `POWERTOOLS_METRICS_NAMESPACE is not a metrics namespace: "${namespace}"`,
    );
  return `SELECT SUM(CallbackRejected) FROM "${namespace}" GROUP BY provider, reason ORDER BY SUM() DESC LIMIT 500`;
}

/**
 * A grouped series' label is its group's values, space-separated (provider ids and reason codes have no spaces);
 * a metric without one of the keys is grouped as "Other".
 */
function groupOf(label: string | undefined): { provider: string; reason: string } {
  const [provider = 'Other', ...reason] = (label ?? '').trim().split(/\s+/);
  return { provider, reason: reason.join(' ') || 'Other' };
}

const HOUR_MS = 3_600_000;

/** Rejections per provider and reason in hourly buckets; `lastAt` is the start of the newest hour with one. */
export function cloudwatchRejections(options: {
  getMetricData: GetMetricData;
  namespace: string;
  clock: Clock;
}): RecentRejections {
  const query = rejectionsQuery(options.namespace);
  return {
    source: 'cloudwatch',
    async since(since) {
      const end = options.clock.now();
      const results = await allResults(options.getMetricData, {
        StartTime: new Date(Math.floor(since.getTime() / 60_000) * 60_000),
        EndTime: end,
        MetricDataQueries: [{ Id: 'rejected', Expression: query, Period: HOUR_MS / 1000, ReturnData: true }],
      });
      const counts = new Map<string, RejectionCount>();
      for (const result of results) {
        const { provider, reason } = groupOf(result.Label);
        const key = `${provider}\u0000${reason}`;
        const entry = counts.get(key) ?? { provider, reason, count: 0, lastAt: '' };
        for (const [i, value] of (result.Values ?? []).entries()) {
          const at = result.Timestamps?.[i];
          if (!(value > 0) || !at) continue;
          entry.count += value;
          const iso = new Date(at).toISOString();
          if (iso > entry.lastAt) entry.lastAt = iso;
        }
        if (entry.count > 0) counts.set(key, entry);
      }
      return [...counts.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
    },
  };
}
