// The platform-certificate refresher (stacks/Certificates.ts) on the synthesized CloudFormation of a test and a
// live stage: its schedule, exactly its SSM permissions (read the three merchant parts, write verify only) and
// its alarms; and the raw_payload purge (stacks/Retention.ts): schedule, retention per stage, role, alarm.
import { beforeAll, describe, expect, it } from 'vitest';
import { CERTIFICATE_EXPIRY_ALARM_DAYS, CERTIFICATE_SCHEDULE } from '../stacks/Certificates.ts';
import { DB_ROLES } from '../stacks/Database.ts';
import { MAX_MESSAGE_SIZE_BYTES } from '../stacks/Queue.ts';
import { RAW_PAYLOAD_PURGE_SCHEDULE } from '../stacks/Retention.ts';
import { actionsOf, asArray, type CfnValue, StageCfn, text } from './cfn.ts';
import { synthesize } from './synth.ts';

const STAGES = ['dev', 'prod'] as const;
const built = {} as Record<(typeof STAGES)[number], StageCfn>;

beforeAll(async () => {
  for (const stage of STAGES) built[stage] = new StageCfn(await synthesize(stage));
}, 900_000);

const ENTRY = 'certificates-wechatpay';
const PURGE = 'purge-raw-payloads';

describe.each(STAGES)('%s stage', (stage) => {
  const cfn = () => built[stage];
  const root = `/payhooks/${stage}/wechatpay`;
  const resourcesOf = (action: string) =>
    cfn()
      .statements(ENTRY)
      .filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action))
      .flatMap((s) => asArray<CfnValue>(s.Resource))
      .map(text);

  const schedulesOf = (entry: string) => {
    const fn = cfn().fn(entry);
    return cfn()
      .in('Reconciliation', 'AWS::Events::Rule')
      .filter((rule) =>
        rule.resource.Properties.Targets.some(
          (t: CfnValue) => cfn().resolve(rule.stack, t.Arn)?.id === fn.id,
        ),
      );
  };

  describe('queue message size', () => {
    it('lets both queues take what SQS accepts today (1 MiB), not the 256 KiB default', () => {
      const queues = cfn().in('Queue', 'AWS::SQS::Queue');
      expect(queues).toHaveLength(2);
      expect(MAX_MESSAGE_SIZE_BYTES).toBe(1_048_576);
      for (const queue of queues) expect(queue.resource.Properties.MaximumMessageSize).toBe(1_048_576);
    });
  });

  describe('raw_payload purge', () => {
    it('runs daily at 03:30 Asia/Shanghai with the schedules’ retry policy', () => {
      const rules = schedulesOf(PURGE);
      expect(rules.map((r) => r.resource.Properties.ScheduleExpression)).toEqual([
        RAW_PAYLOAD_PURGE_SCHEDULE,
      ]);
      expect(RAW_PAYLOAD_PURGE_SCHEDULE).toBe('cron(30 19 * * ? *)');
      expect(rules[0]!.resource.Properties.Targets[0].RetryPolicy).toEqual({
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
      });
    });

    it('keeps raw payloads 400 days on the live stage, 30 on a test stage', () => {
      expect(cfn().env(PURGE).RAW_PAYLOAD_RETENTION_DAYS).toBe(stage === 'prod' ? '400' : '30');
    });

    it('connects as the application role in the VPC, and may do nothing else', () => {
      const env = cfn().env(PURGE);
      expect(env.DB_USER).toBe(DB_ROLES.app);
      expect(cfn().fn(PURGE).resource.Properties.VpcConfig.SubnetIds).toHaveLength(2);
      const actions = new Set(
        cfn()
          .statements(PURGE)
          .filter((s) => s.Effect === 'Allow')
          .flatMap(actionsOf),
      );
      expect([...actions].sort()).toEqual(
        ['rds-db:connect', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'].sort(),
      );
      const connect = cfn()
        .statements(PURGE)
        .filter((s) => actionsOf(s).includes('rds-db:connect'))
        .map((s) => text(s.Resource));
      expect(connect).toHaveLength(1);
      expect(connect[0]).toMatch(new RegExp(`"/${DB_ROLES.app}"\\]\\]\\}$`));
    });

    it('alarms when a run fails', () => {
      const failed = cfn()
        .in('Monitoring', 'AWS::CloudWatch::Alarm')
        .filter(
          (a) =>
            a.resource.Properties.MetricName === 'Errors' &&
            cfn().resolve(a.stack, a.resource.Properties.Dimensions[0].Value)?.resource.Properties.Handler ===
              `packages/functions/src/${PURGE}.handler`,
        );
      expect(failed).toHaveLength(1);
      expect(failed[0]!.resource.Properties).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });
  });

  describe('platform certificate refresher', () => {
    it('runs on its schedule (WeChat asks for < 12 h) with the schedules’ retry policy', () => {
      const rules = schedulesOf(ENTRY);
      expect(rules.map((r) => r.resource.Properties.ScheduleExpression)).toEqual([CERTIFICATE_SCHEDULE]);
      expect(CERTIFICATE_SCHEDULE).toBe('rate(6 hours)');
      expect(rules[0]!.resource.Properties.Targets[0].RetryPolicy).toEqual({
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
      });
    });

    it('stays outside the VPC and has no database or queue access', () => {
      const fn = cfn().fn(ENTRY);
      expect(fn.resource.Properties.VpcConfig).toBeUndefined();
      const env = cfn().env(ENTRY);
      expect(env.WECHATPAY_PARAMETERS).toBe(root);
      for (const name of ['DB_HOST', 'QUEUE_URL', 'WECHATPAY_MERCHANTS']) expect(env[name]).toBeUndefined();
    });

    it('reads the verify, decrypt and sign parts and writes verify parameters only', () => {
      const actions = new Set(
        cfn()
          .statements(ENTRY)
          .filter((s) => s.Effect === 'Allow')
          .flatMap(actionsOf),
      );
      expect([...actions].sort()).toEqual(
        [
          'ssm:GetParametersByPath',
          'ssm:PutParameter',
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ].sort(),
      );
      const reads = resourcesOf('ssm:GetParametersByPath');
      expect(reads).toHaveLength(6);
      for (const purpose of ['verify', 'decrypt', 'sign'])
        for (const suffix of [`${purpose}"`, `${purpose}/*"`])
          expect(reads.filter((r) => r.endsWith(`:parameter${root}/${suffix}]]}`))).toHaveLength(1);
      const writes = resourcesOf('ssm:PutParameter');
      expect(writes).toHaveLength(1);
      expect(writes[0]).toMatch(new RegExp(`:parameter${root}/verify/\\*"]]}$`));
      // No other function may write a merchant parameter.
      for (const { where, statement } of cfn().allStatements()) {
        if (!actionsOf(statement).some((a) => a === 'ssm:PutParameter' || a === 'ssm:*')) continue;
        expect(where).toMatch(/CertificatesWechatpay/);
      }
    });

    it('alarms on a newest certificate within 7 days of expiry, on failed runs and on unknown serials', () => {
      const alarms = cfn().in('Monitoring', 'AWS::CloudWatch::Alarm');
      const named = (metricName: string) =>
        alarms.filter((a) => a.resource.Properties.MetricName === metricName);
      const [expiry, ...moreExpiry] = named('PlatformCertificateDaysLeft');
      expect(moreExpiry).toHaveLength(0);
      expect(expiry!.resource.Properties).toMatchObject({
        Namespace: `payhooks/${stage}`,
        Dimensions: [{ Name: 'service', Value: ENTRY }],
        Statistic: 'Minimum',
        Threshold: CERTIFICATE_EXPIRY_ALARM_DAYS,
        ComparisonOperator: 'LessThanThreshold',
      });
      expect(CERTIFICATE_EXPIRY_ALARM_DAYS).toBe(7);
      const unknownSerial = named('CallbackRejected').filter((a) =>
        asArray<CfnValue>(a.resource.Properties.Dimensions).some(
          (d) => d.Name === 'reason' && d.Value === 'WECHATPAY_UNKNOWN_SERIAL',
        ),
      );
      expect(unknownSerial).toHaveLength(1);
      expect(unknownSerial[0]!.resource.Properties).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
      const failed = named('Errors').filter(
        (a) =>
          cfn().resolve(a.stack, a.resource.Properties.Dimensions[0].Value)?.resource.Properties.Handler ===
          `packages/functions/src/${ENTRY}.handler`,
      );
      expect(failed).toHaveLength(1);
      const topicActions = [expiry!, unknownSerial[0]!, failed[0]!].map(
        (a) => asArray(a.resource.Properties.AlarmActions).length,
      );
      expect(topicActions).toEqual([1, 1, 1]);
    });
  });
});
