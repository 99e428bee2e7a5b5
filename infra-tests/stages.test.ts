// Stages by declaration, proven on the synthesized CloudFormation: a stage declared live under a name other than
// `prod` behaves live (Stripe live mode, retention, deletion protection, backups, logs, capacity), with Stripe over
// EventBridge opted in; an undeclared stage is a removable test stage and the deploy says so. Per-route throttles
// and the deploy-time preflight are asserted on both.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stageSettings } from '../stacks/stage.ts';
import {
  declarationProblems,
  LIVE_STAGE,
  STAGE_DECLARATIONS,
  type StageDeclaration,
  TEST_STAGE,
} from '../stacks/stages.ts';
import { announceStage, StageDeclarationError } from '../stacks/stages-check.ts';
import { actionsOf, asArray, type CfnValue, type Located, StageCfn, type Statement, text } from './cfn.ts';
import { synthesize } from './synth.ts';

const LIVE = 'production';
const UNDECLARED = 'feature-x';
const PARTNER_SOURCE = 'aws.partner/stripe.com/ed_61ProductionDestination';
const LIVE_DECLARATION: StageDeclaration = {
  ...LIVE_STAGE,
  throttle: { webhooks: { rate: 400, burst: 800 }, reports: { rate: 7, burst: 9 } },
  stripeEventBridge: { eventSourceName: PARTNER_SOURCE },
};
const ENTRIES = [
  'stripe-webhook',
  'wechatpay-webhook',
  'consumer',
  'migrate',
  'recon-wechatpay',
  'recon-stripe',
  'sweep-wechatpay',
  'reports',
  'preflight',
] as const;

const built: Record<string, StageCfn> = {};
const printed: Record<string, string[]> = {};

beforeAll(async () => {
  STAGE_DECLARATIONS[LIVE] = LIVE_DECLARATION;
  for (const stage of [LIVE, UNDECLARED]) {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      built[stage] = new StageCfn(await synthesize(stage));
      printed[stage] = log.mock.calls.map((call) => call.map(String).join(' '));
    } finally {
      log.mockRestore();
    }
  }
}, 900_000);
afterAll(() => {
  delete STAGE_DECLARATIONS[LIVE];
});

function resolved(cfn: StageCfn, from: Located, value: CfnValue): Located {
  const target = cfn.resolve(from.stack, value);
  if (!target) throw new Error(`unresolvable reference ${text(value)} in ${from.stack}/${from.id}`);
  return target;
}

describe('stage declarations (no synthesis)', () => {
  it('derives live behaviour from the declaration, not from the name `prod`', () => {
    expect(stageSettings('prod').live).toBe(true);
    const declared = STAGE_DECLARATIONS.prod!;
    delete STAGE_DECLARATIONS.prod;
    try {
      const undeclaredProd = stageSettings('prod');
      expect(undeclaredProd).toMatchObject({ live: false, declared: false, retained: false, mode: 'test' });
    } finally {
      STAGE_DECLARATIONS.prod = declared;
    }
  });

  it('refuses a malformed declaration with one line naming stacks/stages.ts and the field', () => {
    expect(declarationProblems('x', TEST_STAGE)).toEqual([]);
    expect(declarationProblems('x', LIVE_DECLARATION)).toEqual([]);
    const broken: StageDeclaration = {
      ...LIVE_STAGE,
      backupRetentionDays: 90,
      throttle: { webhooks: { rate: 0, burst: 0 }, reports: LIVE_STAGE.throttle.reports },
      stripeEventBridge: { eventSourceName: 'aws.partner/example.com/other' },
    };
    expect(declarationProblems('broken', broken)).toEqual([
      'stacks/stages.ts: stage "broken": backupRetentionDays is at most 35 (Aurora\'s limit)',
      'stacks/stages.ts: stage "broken": throttle.webhooks needs a rate above 0 and a burst of at least 1',
      'stacks/stages.ts: stage "broken": stripeEventBridge.eventSourceName must be the partner event source Stripe created (aws.partner/stripe.com/ed_…)',
    ]);
    STAGE_DECLARATIONS.broken = broken;
    try {
      expect(() => announceStage('broken', () => {})).toThrow(StageDeclarationError);
    } finally {
      delete STAGE_DECLARATIONS.broken;
    }
  });
});

describe.each([
  { stage: LIVE, declaration: LIVE_DECLARATION, live: true },
  { stage: UNDECLARED, declaration: TEST_STAGE, live: false },
])('$stage stage', ({ stage, declaration, live }) => {
  const cfn = () => built[stage]!;

  it(
    live
      ? 'says at deploy that it is declared live'
      : 'says at deploy that it is undeclared, so a removable test stage',
    () => {
      const lines = printed[stage]!.filter((line) => line.startsWith('payhooks: stage'));
      expect(lines).toEqual([
        live
          ? `payhooks: stage "${stage}" is declared LIVE in stacks/stages.ts (removal: retain, deletion protection: on)`
          : `payhooks: stage "${stage}" is not declared in stacks/stages.ts: deploying it as a removable TEST stage (Stripe test mode, test keys only, deleted on sst remove)`,
      ]);
    },
  );

  it('gives every function the declared mode, and the consumer the Stripe mode derived from it', () => {
    for (const entry of ENTRIES)
      expect(cfn().env(entry).PAYHOOKS_STAGE_MODE, entry).toBe(live ? 'live' : 'test');
    expect(cfn().env('consumer').STRIPE_LIVEMODE).toBe(live ? 'true' : 'false');
  });

  it('protects and retains the database as declared (deletion protection, backups, removal policy)', () => {
    const cluster = cfn().one('Database', 'AWS::RDS::DBCluster').resource;
    expect(cluster.Properties.DeletionProtection).toBe(declaration.deletionProtection);
    expect(cluster.Properties.BackupRetentionPeriod).toBe(declaration.backupRetentionDays);
    expect(cluster.DeletionPolicy).toBe(live ? 'Retain' : 'Delete');
    const instances = cfn().in('Database', 'AWS::RDS::DBInstance');
    expect(instances).toHaveLength(1 + declaration.capacity.database.readers);
    expect(cluster.Properties.ServerlessV2ScalingConfiguration).toEqual({
      MinCapacity: declaration.capacity.database.minAcu,
      MaxCapacity: declaration.capacity.database.maxAcu,
    });
    const bucket = cfn().one('Reconciliation', 'AWS::S3::Bucket').resource;
    expect(bucket.DeletionPolicy).toBe(live ? 'Retain' : 'Delete');
    expect(bucket.Properties.VersioningConfiguration?.Status).toBe(live ? 'Enabled' : undefined);
  });

  it('keeps every log group for the declared retention', () => {
    const groups = cfn().all('AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThan(ENTRIES.length);
    for (const group of groups) {
      expect(group.resource.Properties.RetentionInDays, group.id).toBe(declaration.logRetentionDays);
      expect(group.resource.DeletionPolicy, group.id).toBe(live ? 'Retain' : 'Delete');
    }
  });

  it('caps the consumer at the declared capacity', () => {
    const mapping = cfn().one('Queue', 'AWS::Lambda::EventSourceMapping').resource;
    expect(mapping.Properties.ScalingConfig).toEqual({
      MaximumConcurrency: declaration.capacity.consumerMaxConcurrency,
    });
  });

  it('throttles the webhooks and the reports routes apart, each as declared', () => {
    const apiStage = cfn().one('Api', 'AWS::ApiGatewayV2::Stage');
    const props = apiStage.resource.Properties;
    // The default route settings are the webhooks' bucket; the reports routes have their own.
    expect(props.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: declaration.throttle.webhooks.rate,
      ThrottlingBurstLimit: declaration.throttle.webhooks.burst,
    });
    const reports = {
      ThrottlingRateLimit: declaration.throttle.reports.rate,
      ThrottlingBurstLimit: declaration.throttle.reports.burst,
    };
    // The reports and console routes have the reports' limits. The webhooks and the order-status routes (asked by
    // the merchant's apps at checkout rates) keep the default per-route limits.
    const others = cfn()
      .in('Api', 'AWS::ApiGatewayV2::Route')
      .map((route) => String(route.resource.Properties.RouteKey))
      .filter((key) => !key.includes('/webhooks/') && !key.startsWith('GET /orders/'));
    expect(others).toEqual(expect.arrayContaining(['GET /reports', 'GET /reports/{key+}', 'GET /console']));
    expect(props.RouteSettings).toEqual(Object.fromEntries(others.map((key) => [key, reports])));
    // No webhook route is in RouteSettings, so a reports burst cannot take the webhooks' rate.
    expect(Object.keys(props.RouteSettings).filter((key) => key.includes('webhooks'))).toEqual([]);
    // CloudFormation needs the routes before route settings that name them.
    const template = cfn().synthesized.templates.Api.toJSON() as {
      Resources: Record<string, { DependsOn?: string[] }>;
    };
    const dependsOn = asArray(template.Resources[apiStage.id]!.DependsOn);
    const routeIds = cfn()
      .in('Api', 'AWS::ApiGatewayV2::Route')
      .filter((route) => route.resource.Properties.RouteKey.startsWith('GET /reports'))
      .map((route) => route.id);
    expect(routeIds).toHaveLength(2);
    for (const id of routeIds) expect(dependsOn).toContain(id);
  });

  it('runs the preflight on every deploy, before the database, with every secret the rule checks', () => {
    const preflight = cfn().fn('preflight');
    expect(preflight.stack).toBe('Preflight');
    const env = cfn().env('preflight');
    expect(
      Object.keys(env)
        .filter((key) => key.startsWith('SST_Secret_value_'))
        .sort(),
    ).toEqual(['SST_Secret_value_STRIPE_API_KEY', 'SST_Secret_value_STRIPE_WEBHOOK_SECRETS']);
    expect(env.WECHATPAY_PARAMETERS).toBe(`/payhooks/${stage}/wechatpay`);
    expect(preflight.resource.Properties.VpcConfig).toBeUndefined();
    // The SST Script: a custom resource invoking the preflight function on create and update.
    const script = cfn()
      .in('Preflight', 'Custom::SSTScript')
      .concat(
        cfn()
          .all()
          .filter((r) => r.stack === 'Preflight' && r.resource.Type.startsWith('Custom::')),
      );
    expect(script.length).toBeGreaterThan(0);
    expect(text(script[0]!.resource.Properties)).toContain(preflight.id);
    // Nothing stateful deploys before it: the Database stack (and so everything after it) depends on Preflight.
    const dependencies = cfn().synthesized.stacks.Database.dependencies.map((s) => s.node.id);
    expect(dependencies.some((id) => id.endsWith('Preflight'))).toBe(true);
    // No route, schedule or event source can invoke it.
    const permissions = cfn()
      .all('AWS::Lambda::Permission')
      .filter((p) => text(p.resource.Properties.FunctionName).includes(preflight.id));
    expect(permissions).toEqual([]);
  });

  it('alarms when the stage guard refuses, in the preflight or at any guarded cold start', () => {
    const alarms = cfn()
      .in('Monitoring', 'AWS::CloudWatch::Alarm')
      .filter((a) => a.resource.Properties.MetricName === 'StageRefused');
    const services = alarms.map((a) => {
      const p = a.resource.Properties;
      expect(p.Namespace).toBe(`payhooks/${stage}`);
      expect(p.Threshold).toBe(0);
      expect(p.ComparisonOperator).toBe('GreaterThanThreshold');
      expect(asArray(p.AlarmActions)).toHaveLength(1);
      return p.Dimensions.find((d: CfnValue) => d.Name === 'service').Value;
    });
    expect(services.sort()).toEqual([
      'consumer',
      'preflight',
      'recon-stripe',
      'recon-wechatpay',
      'stripe-webhook',
      'sweep-wechatpay',
      'wechatpay-webhook',
    ]);
  });

  const queuePolicyAllows = () =>
    cfn()
      .in('Queue', 'AWS::SQS::QueuePolicy')
      .filter((policy) =>
        asArray<CfnValue>(policy.resource.Properties.Queues).some((q) =>
          resolved(cfn(), policy, q).id.startsWith('EventQueue'),
        ),
      )
      .flatMap((policy) => asArray<Statement>(policy.resource.Properties.PolicyDocument.Statement))
      .filter((s) => s.Effect === 'Allow');

  if (live) {
    it('delivers Stripe over EventBridge: partner bus → one rule → the ingest queue (DLQ on failure)', () => {
      const bus = cfn().one('Queue', 'AWS::Events::EventBus');
      expect(bus.resource.Properties).toMatchObject({
        Name: PARTNER_SOURCE,
        EventSourceName: PARTNER_SOURCE,
      });
      const rule = cfn().one('Queue', 'AWS::Events::Rule');
      expect(resolved(cfn(), rule, rule.resource.Properties.EventBusName).id).toBe(bus.id);
      expect(rule.resource.Properties.EventPattern).toEqual({
        source: [{ prefix: 'aws.partner/stripe.com/' }],
      });
      expect(rule.resource.Properties.State).toBe('ENABLED');
      const targets: CfnValue[] = rule.resource.Properties.Targets;
      expect(targets).toHaveLength(1);
      expect(resolved(cfn(), rule, targets[0].Arn).id).toMatch(/^EventQueue/);
      expect(resolved(cfn(), rule, targets[0].DeadLetterConfig.Arn).id).toMatch(/^DeadLetterQueue/);
      // The event goes as it is (the consumer's adapter reads it): no transformer, no role to assume.
      expect(targets[0].InputTransformer).toBeUndefined();
      expect(targets[0].InputPath).toBeUndefined();
      expect(targets[0].RoleArn).toBeUndefined();
    });

    it('lets only that rule send to the queue (queue policy: events.amazonaws.com with the rule as source)', () => {
      const rule = cfn().one('Queue', 'AWS::Events::Rule');
      const allows = queuePolicyAllows();
      expect(allows).toHaveLength(1);
      const [statement] = allows;
      // CDK's SQS target grant: send, plus the two read-only metadata calls; never receive, delete or purge.
      expect(actionsOf(statement!).sort()).toEqual([
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ]);
      expect(statement!.Principal).toEqual({ Service: 'events.amazonaws.com' });
      const sourceArn = statement!.Condition.ArnEquals['aws:SourceArn'];
      expect(resolved(cfn(), rule, sourceArn).id).toBe(rule.id);
      expect(Object.keys(statement!.Condition)).toEqual(['ArnEquals']);
    });

    it('needs no secret on the EventBridge path: no function, no role, no parameter or secret reference', () => {
      const path = [cfn().one('Queue', 'AWS::Events::EventBus'), cfn().one('Queue', 'AWS::Events::Rule')];
      for (const resource of path) {
        const body = text(resource.resource.Properties);
        expect(body).not.toMatch(/ssm|secretsmanager|SST_Secret|Lambda|Role/i);
      }
      // The consumer's bindings are unchanged by the opt-in: still no bound secret.
      const consumerEnv = Object.keys(cfn().env('consumer'));
      expect(consumerEnv.filter((key) => key.startsWith('SST_Secret_value_'))).toEqual([]);
    });
  } else {
    it('has no EventBridge path when the stage does not opt in, and the queue admits no service principal', () => {
      expect(cfn().in('Queue', 'AWS::Events::EventBus')).toEqual([]);
      expect(cfn().in('Queue', 'AWS::Events::Rule')).toEqual([]);
      expect(queuePolicyAllows()).toEqual([]);
    });
  }
});
