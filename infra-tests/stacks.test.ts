// What the SST stacks synthesize for `dev` and `prod`, asserted on the CloudFormation itself. Both stages are
// built once (bundling every function) and shared by all tests in this file.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_API_ROUTES, CONSOLE_PUBLIC_ROUTES } from '../stacks/Console.ts';
import { DB_ROLES } from '../stacks/Database.ts';
import { SCHEDULES } from '../stacks/Reconciliation.ts';
import { stageSettings } from '../stacks/stage.ts';
import { actionsOf, asArray, type CfnValue, type Located, StageCfn, type Statement, text } from './cfn.ts';
import { ROOT, synthesize } from './synth.ts';

const STAGES = ['dev', 'prod'] as const;
type StageName = (typeof STAGES)[number];
const built = {} as Record<StageName, StageCfn>;

// Synthesis bundles (and minifies) every function of both stages: minutes on a loaded 2-core machine.
beforeAll(async () => {
  for (const stage of STAGES) built[stage] = new StageCfn(await synthesize(stage));
}, 900_000);

const SECRET_NAMES = ['STRIPE_WEBHOOK_SECRETS', 'STRIPE_API_KEY', 'WECHATPAY_MERCHANTS'] as const;
// WeChat Pay merchant parts by need (docs/decisions.md "Merchant secrets by need").
const WECHATPAY_PURPOSES: Record<Entry, string[]> = {
  'stripe-webhook': [],
  'wechatpay-webhook': ['verify'],
  consumer: ['decrypt'],
  migrate: [],
  'recon-wechatpay': ['verify', 'decrypt', 'sign'],
  'recon-stripe': [],
  'sweep-wechatpay': ['verify', 'decrypt', 'sign'],
  'revalidate-stripe': [],
  'consistency-stripe': [],
  'consistency-wechatpay': ['verify', 'decrypt', 'sign'],
  reports: [],
};
const IN_VPC = [
  'consumer',
  'migrate',
  'recon-wechatpay',
  'recon-stripe',
  'sweep-wechatpay',
  'revalidate-stripe',
  'consistency-stripe',
  'consistency-wechatpay',
] as const;
const OUTSIDE_VPC = ['stripe-webhook', 'wechatpay-webhook', 'reports'] as const;
const ENTRIES = [...IN_VPC, ...OUTSIDE_VPC] as const;
type Entry = (typeof ENTRIES)[number];

const DB_ENV = ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_MAX_CONNECTIONS'];
const COMMON_ENV = [
  'PAYHOOKS_STAGE',
  'PAYHOOKS_STAGE_MODE',
  'LOG_LEVEL',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'AWS_NODEJS_CONNECTION_REUSE_ENABLED',
  'SST_APP',
  'SST_STAGE',
  'SST_SSM_PREFIX',
];
const OWN_ENV: Record<Entry, string[]> = {
  'stripe-webhook': ['QUEUE_URL', 'CLAIM_CHECK_BUCKET'],
  'wechatpay-webhook': ['QUEUE_URL', 'WECHATPAY_PARAMETERS', 'CLAIM_CHECK_BUCKET'],
  consumer: [...DB_ENV, 'STRIPE_LIVEMODE', 'WECHATPAY_PARAMETERS', 'CLAIM_CHECK_BUCKET'],
  migrate: [...DB_ENV, 'MIGRATIONS_DIR', 'DB_ROLE_SECRET_ARNS'],
  'recon-wechatpay': [...DB_ENV, 'REPORTS_BUCKET', 'ALERT_TOPIC_ARN', 'WECHATPAY_PARAMETERS'],
  'recon-stripe': [...DB_ENV, 'REPORTS_BUCKET', 'ALERT_TOPIC_ARN'],
  'sweep-wechatpay': [...DB_ENV, 'QUEUE_URL', 'WECHATPAY_PARAMETERS', 'CLAIM_CHECK_BUCKET'],
  'revalidate-stripe': [...DB_ENV, 'QUEUE_URL', 'CLAIM_CHECK_BUCKET'],
  'consistency-stripe': [...DB_ENV, 'QUEUE_URL', 'CLAIM_CHECK_BUCKET'],
  'consistency-wechatpay': [...DB_ENV, 'QUEUE_URL', 'WECHATPAY_PARAMETERS', 'CLAIM_CHECK_BUCKET'],
  reports: ['REPORTS_BUCKET'],
};
const BOUND_SECRETS: Record<Entry, string[]> = {
  'stripe-webhook': ['STRIPE_WEBHOOK_SECRETS'],
  'wechatpay-webhook': [],
  consumer: [],
  migrate: [],
  'recon-wechatpay': [],
  'recon-stripe': ['STRIPE_API_KEY'],
  'sweep-wechatpay': [],
  'revalidate-stripe': ['STRIPE_API_KEY'],
  'consistency-stripe': ['STRIPE_API_KEY'],
  'consistency-wechatpay': [],
  reports: [],
};
/** The database role each in-VPC function connects as (docs/decisions.md "Database roles"). */
const DB_USER_OF: Partial<Record<Entry, string>> = {
  migrate: DB_ROLES.owner,
  consumer: DB_ROLES.app,
  'recon-wechatpay': DB_ROLES.app,
  'recon-stripe': DB_ROLES.app,
  'sweep-wechatpay': DB_ROLES.app,
  'revalidate-stripe': DB_ROLES.app,
  'consistency-stripe': DB_ROLES.app,
  'consistency-wechatpay': DB_ROLES.app,
};
const XRAY = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];
const CONSUME = [
  'sqs:ReceiveMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueUrl',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
];
const RECON = ['rds-db:connect', 's3:GetObject', 's3:PutObject', 's3:ListBucket', 'sns:Publish'];
const ACTIONS: Record<Entry, string[]> = {
  // s3:PutObject for the producers; s3:GetObject / DeleteObject / ListBucket for the consumer: the claim-check
  // bucket only (infra-tests/claim-check.test.ts).
  'stripe-webhook': ['sqs:SendMessage', 'ssm:GetParameters', 's3:PutObject'],
  'wechatpay-webhook': ['sqs:SendMessage', 'ssm:GetParametersByPath', 's3:PutObject'],
  consumer: [
    'rds-db:connect',
    'ssm:GetParametersByPath',
    ...CONSUME,
    's3:GetObject',
    's3:DeleteObject',
    's3:ListBucket',
  ],
  migrate: ['rds-db:connect', 'secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
  'recon-wechatpay': [...RECON, 'ssm:GetParametersByPath'],
  'recon-stripe': [...RECON, 'ssm:GetParameters'],
  'sweep-wechatpay': ['rds-db:connect', 'sqs:SendMessage', 'ssm:GetParametersByPath', 's3:PutObject'],
  'revalidate-stripe': ['rds-db:connect', 'sqs:SendMessage', 'ssm:GetParameters', 's3:PutObject'],
  'consistency-stripe': ['rds-db:connect', 'sqs:SendMessage', 'ssm:GetParameters', 's3:PutObject'],
  'consistency-wechatpay': ['rds-db:connect', 'sqs:SendMessage', 'ssm:GetParametersByPath', 's3:PutObject'],
  reports: ['s3:GetObject', 's3:ListBucket'],
};
/** Actions CloudFormation/Lambda only offer on `*`; nothing else may be granted on every resource. */
// cloudwatch:GetMetricData has no resource type (the console API reads queue age and rejections with it).
const STAR_RESOURCE_ACTIONS = new Set([
  ...XRAY,
  'logs:PutRetentionPolicy',
  'logs:DeleteRetentionPolicy',
  'cloudwatch:GetMetricData',
]);

const allowed = (statements: Statement[]) => statements.filter((s) => s.Effect === 'Allow');
const allowing = (statements: Statement[], action: string) =>
  allowed(statements).filter((s) => actionsOf(s).includes(action));
const tag = (resource: CfnValue, key: string) =>
  asArray<{ Key: string; Value: string }>(resource.Properties?.Tags).find((t) => t.Key === key)?.Value;

function resolved(cfn: StageCfn, from: Located, value: CfnValue): Located {
  const target = cfn.resolve(from.stack, value);
  if (!target) throw new Error(`unresolvable reference ${text(value)} in ${from.stack}/${from.id}`);
  return target;
}

describe.each(STAGES)('%s stage', (stage) => {
  const cfn = () => built[stage];
  const settings = stageSettings(stage);

  describe('Api', () => {
    it('routes both providers (with per-account / per-merchant paths) and the IAM-protected reports', () => {
      const routes = cfn().in('Api', 'AWS::ApiGatewayV2::Route');
      const byKey = Object.fromEntries(
        routes.map((route) => {
          const integrationRef = route.resource.Properties.Target['Fn::Join'][1][1];
          const integration = resolved(cfn(), route, integrationRef);
          const fn = resolved(cfn(), integration, integration.resource.Properties.IntegrationUri);
          return [
            route.resource.Properties.RouteKey,
            { auth: route.resource.Properties.AuthorizationType, handler: fn.resource.Properties.Handler },
          ];
        }),
      );
      const h = (entry: string) => `packages/functions/src/${entry}.handler`;
      expect(byKey).toEqual({
        'POST /webhooks/stripe': { auth: 'NONE', handler: h('stripe-webhook') },
        'POST /webhooks/stripe/{account}': { auth: 'NONE', handler: h('stripe-webhook') },
        'POST /webhooks/wechatpay': { auth: 'NONE', handler: h('wechatpay-webhook') },
        'POST /webhooks/wechatpay/{merchant}': { auth: 'NONE', handler: h('wechatpay-webhook') },
        'GET /reports': { auth: 'AWS_IAM', handler: h('reports') },
        'GET /reports/{key+}': { auth: 'AWS_IAM', handler: h('reports') },
        // The order-status API and the console (infra-tests/console.test.ts says more).
        'GET /orders/{provider}/{account}/{merchantOrderNo}': {
          auth: 'AWS_IAM',
          handler: h('handlers/orders-api'),
        },
        'GET /orders/openapi.yaml': { auth: 'AWS_IAM', handler: h('handlers/orders-api') },
        ...Object.fromEntries(
          CONSOLE_PUBLIC_ROUTES.map((key) => [key, { auth: 'NONE', handler: h('handlers/console-static') }]),
        ),
        ...Object.fromEntries(
          CONSOLE_API_ROUTES.map((key) => [key, { auth: 'JWT', handler: h('handlers/console-api') }]),
        ),
      });
    });

    it('throttles the stage and writes JSON access logs to a log group with the stage retention', () => {
      const stageResource = cfn().one('Api', 'AWS::ApiGatewayV2::Stage');
      const props = stageResource.resource.Properties;
      expect(props.DefaultRouteSettings).toEqual({
        ThrottlingRateLimit: settings.api.rateLimit,
        ThrottlingBurstLimit: settings.api.burstLimit,
      });
      const format = JSON.parse(props.AccessLogSettings.Format);
      expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
      const logGroup = resolved(cfn(), stageResource, props.AccessLogSettings.DestinationArn);
      expect(logGroup.resource.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup.resource.Properties.RetentionInDays).toBe(settings.isProd ? 365 : 7);
    });

    it('gives finance a managed policy that can invoke GET /reports and nothing else', () => {
      const policy = cfn()
        .in('Api', 'AWS::IAM::ManagedPolicy')
        .find((p) => p.id.startsWith('FinanceReportsAccess'))!;
      const statements: Statement[] = policy.resource.Properties.PolicyDocument.Statement;
      expect(statements).toHaveLength(1);
      expect(statements[0]!.Action).toBe('execute-api:Invoke');
      const resources = asArray<CfnValue>(statements[0]!.Resource).map(text);
      expect(resources).toHaveLength(2);
      expect(resources[0]).toContain('/*/GET/reports"');
      expect(resources[1]).toContain('/*/GET/reports/*"');
    });
  });

  describe('Queue', () => {
    it('is a standard queue with SSE and a redrive policy to an encrypted DLQ', () => {
      const queues = cfn().in('Queue', 'AWS::SQS::Queue');
      const main = queues.find((q) => q.resource.Properties.RedrivePolicy)!;
      const dlq = resolved(cfn(), main, main.resource.Properties.RedrivePolicy.deadLetterTargetArn);
      expect(queues).toHaveLength(2);
      expect(main.resource.Properties.FifoQueue).toBeUndefined();
      expect(main.resource.Properties.RedrivePolicy.maxReceiveCount).toBe(settings.queue.maxReceiveCount);
      for (const q of [main, dlq]) expect(q.resource.Properties.SqsManagedSseEnabled).toBe(true);
      // A message keeps its original enqueue time in the DLQ, so the DLQ must keep messages longer.
      expect(dlq.resource.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
      expect(main.resource.Properties.MessageRetentionPeriod).toBe(settings.queue.retentionDays * 24 * 3600);
      expect(settings.queue.retentionDays).toBeLessThan(14);
    });

    it('has a visibility timeout of at least 6 × the consumer timeout + the batching window', () => {
      const main = cfn()
        .in('Queue', 'AWS::SQS::Queue')
        .find((q) => q.resource.Properties.RedrivePolicy)!;
      const consumerTimeout = cfn().fn('consumer').resource.Properties.Timeout;
      const window = cfn().one('Queue', 'AWS::Lambda::EventSourceMapping').resource.Properties
        .MaximumBatchingWindowInSeconds;
      expect(consumerTimeout).toBe(settings.consumer.timeoutSeconds);
      expect(window).toBe(settings.consumer.batchWindowSeconds);
      expect(main.resource.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * consumerTimeout + window);
    });

    it('feeds the consumer in batches with partial batch responses and a concurrency cap', () => {
      const mapping = cfn().one('Queue', 'AWS::Lambda::EventSourceMapping');
      const props = mapping.resource.Properties;
      expect(resolved(cfn(), mapping, props.FunctionName).id).toBe(cfn().fn('consumer').id);
      expect(resolved(cfn(), mapping, props.EventSourceArn).resource.Properties.RedrivePolicy).toBeDefined();
      expect(props).toMatchObject({
        BatchSize: settings.consumer.batchSize,
        MaximumBatchingWindowInSeconds: settings.consumer.batchWindowSeconds,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: settings.consumer.maxConcurrency },
      });
      // The cap bounds the consumer's DB connections: one per container.
      expect(cfn().env('consumer').DB_MAX_CONNECTIONS).toBe('1');
    });

    it('takes batches of 500 gathered for up to 1 s (above 10 records SQS requires a window of ≥ 1 s)', () => {
      const props = cfn().one('Queue', 'AWS::Lambda::EventSourceMapping').resource.Properties;
      expect(props.BatchSize).toBe(500);
      expect(props.MaximumBatchingWindowInSeconds).toBe(1);
      if (props.BatchSize > 10) expect(props.MaximumBatchingWindowInSeconds).toBeGreaterThanOrEqual(1);
    });

    it('denies non-TLS access to both queues', () => {
      const policies = cfn().in('Queue', 'AWS::SQS::QueuePolicy');
      expect(policies).toHaveLength(2);
      for (const policy of policies) {
        expect(policy.resource.Properties.PolicyDocument.Statement).toContainEqual(
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        );
      }
    });
  });

  describe('Database', () => {
    it('is Aurora PostgreSQL Serverless v2 with the stage ACU range, encrypted, password in Secrets Manager', () => {
      const cluster = cfn().one('Database', 'AWS::RDS::DBCluster').resource.Properties;
      expect(cluster.Engine).toBe('aurora-postgresql');
      expect(cluster.ServerlessV2ScalingConfiguration).toEqual({
        MinCapacity: settings.database.minAcu,
        MaxCapacity: settings.database.maxAcu,
      });
      expect(cluster.StorageEncrypted).toBe(true);
      expect(text(cluster.MasterUserPassword)).toMatch(/^\{"Fn::Join":\["",\["\{\{resolve:secretsmanager:/);
      const instances = cfn().in('Database', 'AWS::RDS::DBInstance');
      expect(instances).toHaveLength(1 + settings.database.readers);
      for (const instance of instances)
        expect(instance.resource.Properties.DBInstanceClass).toBe('db.serverless');
      for (const secret of cfn().in('Database', 'AWS::SecretsManager::Secret'))
        expect(secret.resource.Properties.GenerateSecretString).toBeDefined();
    });

    it('puts an RDS Proxy in front that requires TLS and IAM authentication', () => {
      const proxy = cfn().one('Database', 'AWS::RDS::DBProxy');
      const props = proxy.resource.Properties;
      expect(props.RequireTLS).toBe(true);
      expect(props.EngineFamily).toBe('POSTGRESQL');
      expect(props.DBProxyName).toBe(`payhooks-${stage}`);
      expect(props.Auth).toHaveLength(4); // master (owner), app, read-only and console role secrets
      for (const auth of props.Auth)
        expect(auth).toMatchObject({ AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED' });
      for (const subnet of props.VpcSubnetIds) {
        expect(tag(resolved(cfn(), proxy, subnet).resource, 'aws-cdk:subnet-type')).toBe('Isolated');
      }
    });

    it('admits Postgres only along functions → proxy → cluster', () => {
      const ingress = cfn().in('Database', 'AWS::EC2::SecurityGroupIngress');
      const edges = ingress.map((rule) => {
        const to = resolved(cfn(), rule, rule.resource.Properties.GroupId).id;
        const from = resolved(cfn(), rule, rule.resource.Properties.SourceSecurityGroupId).id;
        expect(rule.resource.Properties.CidrIp).toBeUndefined();
        return `${from} -> ${to}`;
      });
      expect(new Set(edges.map((edge) => edge.replace(/[0-9A-F]{8}/g, '')))).toEqual(
        new Set([
          'FunctionsSecurityGroup -> ProxySecurityGroup',
          'ProxySecurityGroup -> ClusterSecurityGroup',
        ]),
      );
    });

    it(settings.isProd ? 'prod retains the database and protects it' : 'is cheap and fully removable', () => {
      const cluster = cfn().one('Database', 'AWS::RDS::DBCluster').resource;
      const secrets = cfn()
        .in('Database', 'AWS::SecretsManager::Secret')
        .map((s) => s.resource);
      expect(cluster.Properties.DeletionProtection).toBe(settings.isProd);
      expect(cluster.Properties.BackupRetentionPeriod).toBe(settings.isProd ? 35 : 1);
      const policy = settings.isProd ? 'Retain' : 'Delete';
      for (const resource of [
        cluster,
        ...secrets,
        ...cfn()
          .in('Database', 'AWS::RDS::DBInstance')
          .map((i) => i.resource),
      ]) {
        expect(resource.DeletionPolicy).toBe(policy);
        expect(resource.UpdateReplacePolicy).toBe(policy);
      }
    });
  });

  describe('Migrations', () => {
    it('run the migrate function on every create and update through an SST Script', () => {
      const script = cfn().one('Migrations', 'Custom::SSTScript');
      const props = script.resource.Properties;
      const migrate = cfn().fn('migrate');
      expect(resolved(cfn(), script, props.UserCreateFunction).id).toBe(migrate.id);
      expect(resolved(cfn(), script, props.UserUpdateFunction).id).toBe(migrate.id);
      expect(props.UserDeleteFunction).toBeUndefined();
      expect(Number(props.Version)).toBeGreaterThan(0);
    });

    it('ship packages/core/migrations inside the migrate bundle at MIGRATIONS_DIR', () => {
      const { synthesized } = cfn();
      const migrate = synthesized.stacks.Migrations.node.findChild('Migrate');
      const bundled = path.join(synthesized.artifactsDir, migrate.node.addr, 'migrations');
      const mjs = (dir: string) =>
        readdirSync(dir)
          .filter((f) => f.endsWith('.mjs'))
          .sort();
      const source = mjs(path.join(ROOT, 'packages/core/migrations'));
      expect(source.length).toBeGreaterThan(0);
      expect(mjs(bundled)).toEqual(source);
      expect(cfn().env('migrate').MIGRATIONS_DIR).toBe('/var/task/migrations');
    });

    it('deploy before the consumer and reconciliation stacks', () => {
      const { stacks } = cfn().synthesized;
      expect(stacks.Queue.dependencies).toContain(stacks.Migrations);
      expect(stacks.Reconciliation.dependencies).toContain(stacks.Queue);
      expect(stacks.Migrations.dependencies).toContain(stacks.Database);
    });
  });

  describe('Envelope wire form', () => {
    it('deploys the consumer before the webhooks, so a new form is read before it is written', () => {
      const { stacks } = cfn().synthesized;
      expect(stacks.Api.dependencies).toContain(stacks.Queue);
    });
  });

  describe('Database roles', () => {
    const secretName = (role: string) => `payhooks/${stage}/database/${role}`;
    const databaseSecret = (id: string) => {
      const secret = cfn()
        .in('Database', 'AWS::SecretsManager::Secret')
        .find((s) => s.id === id);
      if (!secret) throw new Error(`no database secret ${id}`);
      return secret;
    };
    /** The secret resources a value (a Ref, an import, or a join of them) names. */
    const secretIdsIn = (from: Located, value: CfnValue): string[] => {
      const parts: CfnValue[] = value?.['Fn::Join'] ? value['Fn::Join'][1] : asArray<CfnValue>(value);
      return parts.filter((p) => typeof p === 'object').map((p) => resolved(cfn(), from, p).id);
    };

    it('register one generated secret per login role with the proxy: master (owner), app, read-only, console', () => {
      const proxy = cfn().one('Database', 'AWS::RDS::DBProxy');
      const ids = proxy.resource.Properties.Auth.map((auth: CfnValue) => {
        const target = resolved(cfn(), proxy, auth.SecretArn);
        // The cluster's master secret is registered through its attachment to the cluster.
        return target.resource.Type === 'AWS::SecretsManager::SecretTargetAttachment'
          ? resolved(cfn(), target, target.resource.Properties.SecretId).id
          : target.id;
      });
      const byName = ids.map((id: string) => {
        const props = databaseSecret(id).resource.Properties;
        const template = JSON.parse(props.GenerateSecretString.SecretStringTemplate);
        return [props.Name, template.username];
      });
      expect(byName.sort()).toEqual(
        [
          [secretName('master'), DB_ROLES.owner],
          [secretName('app'), DB_ROLES.app],
          [secretName('readonly'), DB_ROLES.readonly],
          [secretName('console'), DB_ROLES.console],
        ].sort(),
      );
    });

    it('let each database function connect as exactly its role, and no two jobs share the owner', () => {
      const users = (IN_VPC as readonly Entry[]).map((entry) => {
        const connect = allowing(cfn().statements(entry), 'rds-db:connect');
        expect(connect, entry).toHaveLength(1);
        const resource = text(connect[0]!.Resource);
        const user = /"\/(\w+)"\]\]\}$/.exec(resource)?.[1];
        expect(cfn().env(entry).DB_USER, entry).toBe(user);
        return [entry, user];
      });
      expect(Object.fromEntries(users)).toEqual(DB_USER_OF);
      expect(users.filter(([, user]) => user === DB_ROLES.owner).map(([entry]) => entry)).toEqual([
        'migrate',
      ]);
    });

    it('let only the migrate function read the app, read-only and console role secrets (never the master secret)', () => {
      const migrate = cfn().role('migrate');
      const read = allowing(cfn().statements('migrate'), 'secretsmanager:GetSecretValue');
      const readable = read.flatMap((s) => secretIdsIn(migrate, s.Resource));
      const app = cfn().in('Database', 'AWS::SecretsManager::Secret');
      const named = (name: string) => app.find((s) => s.resource.Properties.Name === name)!.id;
      expect(readable.sort()).toEqual(
        [named(secretName('app')), named(secretName('readonly')), named(secretName('console'))].sort(),
      );
      const env = cfn().env('migrate');
      expect(secretIdsIn(cfn().fn('migrate'), env.DB_ROLE_SECRET_ARNS).sort()).toEqual(readable.sort());
      for (const entry of ENTRIES.filter((e) => e !== 'migrate'))
        expect(allowing(cfn().statements(entry), 'secretsmanager:GetSecretValue'), entry).toHaveLength(0);
    });
  });

  describe('Functions', () => {
    it.each(IN_VPC)(
      '%s runs in the private function subnets behind the functions security group',
      (entry) => {
        const fn = cfn().fn(entry);
        const vpc = fn.resource.Properties.VpcConfig;
        expect(vpc.SubnetIds).toHaveLength(2);
        for (const subnet of vpc.SubnetIds) {
          const located = resolved(cfn(), fn, subnet);
          expect(tag(located.resource, 'aws-cdk:subnet-type')).toBe('Private');
          expect(tag(located.resource, 'aws-cdk:subnet-name')).toBe('functions');
        }
        expect(vpc.SecurityGroupIds.map((sg: CfnValue) => resolved(cfn(), fn, sg).id)).toEqual([
          expect.stringMatching(/^FunctionsSecurityGroup/),
        ]);
      },
    );

    it.each(OUTSIDE_VPC)('%s stays outside the VPC (no database access, no ENI)', (entry) => {
      expect(cfn().fn(entry).resource.Properties.VpcConfig).toBeUndefined();
      expect(Object.keys(cfn().env(entry))).not.toContain('DB_HOST');
    });

    it.each(ENTRIES)('%s gets exactly its environment contract', (entry) => {
      const env = cfn().env(entry);
      const secrets = BOUND_SECRETS[entry].map((name) => `SST_Secret_value_${name}`);
      expect(Object.keys(env).sort()).toEqual([...COMMON_ENV, ...OWN_ENV[entry], ...secrets].sort());
      expect(env.PAYHOOKS_STAGE).toBe(stage);
      expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe(`payhooks/${stage}`);
      if (entry === 'consumer') expect(env.STRIPE_LIVEMODE).toBe(stage === 'prod' ? 'true' : 'false');
      if (OWN_ENV[entry].includes('DB_HOST')) {
        expect(env).toMatchObject({
          DB_PORT: '5432',
          DB_NAME: 'payhooks',
          DB_USER: DB_USER_OF[entry],
          DB_MAX_CONNECTIONS: '1',
        });
        const host = resolved(cfn(), cfn().fn(entry), env.DB_HOST);
        expect(host.resource.Type).toBe('AWS::RDS::DBProxy');
      }
      if (env.QUEUE_URL) expect(resolved(cfn(), cfn().fn(entry), env.QUEUE_URL).id).toMatch(/^EventQueue/);
      if (env.REPORTS_BUCKET)
        expect(resolved(cfn(), cfn().fn(entry), env.REPORTS_BUCKET).id).toMatch(/^ReportsBucket/);
    });

    it.each(ENTRIES)('%s has only its own secrets bound, as SSM placeholders, never as values', (entry) => {
      const env = cfn().env(entry);
      for (const name of SECRET_NAMES) expect(env[name]).toBeUndefined();
      for (const [key, value] of Object.entries(env)) {
        if (key.startsWith('SST_Secret_value_')) expect(value).toBe('__FETCH_FROM_SSM__');
        expect(key).not.toMatch(/PASSWORD|DATABASE_URL/);
        expect(text(value)).not.toMatch(/sk_(live|test)_|rk_(live|test)_|whsec_|PRIVATE KEY/);
      }
      const ssm = allowing(cfn().statements(entry), 'ssm:GetParameters');
      const paths = ssm.flatMap((s) => asArray<CfnValue>(s.Resource)).map(text);
      const expected = BOUND_SECRETS[entry].flatMap((name) => [
        `:parameter/sst/payhooks/${stage}/Secret/${name}/value"`,
        `:parameter/sst/payhooks/.fallback/Secret/${name}/value"`,
      ]);
      expect(paths).toHaveLength(expected.length);
      for (const suffix of expected) expect(paths.some((p) => p.endsWith(`${suffix}]]}`))).toBe(true);
    });

    it.each(ENTRIES)('%s reads exactly the WeChat Pay merchant parts it needs', (entry) => {
      const purposes = WECHATPAY_PURPOSES[entry];
      const env = cfn().fn(entry).resource.Properties.Environment?.Variables ?? {};
      const root = `/payhooks/${stage}/wechatpay`;
      expect(env.WECHATPAY_PARAMETERS).toBe(purposes.length ? root : undefined);
      const byPath = allowing(cfn().statements(entry), 'ssm:GetParametersByPath');
      const resources = byPath.flatMap((s) => asArray<CfnValue>(s.Resource)).map(text);
      // Every purpose's path and its parameters, nothing else, and never a wildcard above the purpose.
      const expected = purposes.flatMap((purpose) => [
        `:parameter${root}/${purpose}"`,
        `:parameter${root}/${purpose}/*"`,
      ]);
      expect(resources).toHaveLength(expected.length);
      for (const suffix of expected)
        expect(
          resources.filter((r) => r.endsWith(`${suffix}]]}`)),
          suffix,
        ).toHaveLength(1);
      const others = ['verify', 'decrypt', 'sign'].filter((p) => !purposes.includes(p));
      for (const other of others)
        expect(resources.some((r) => r.includes(`/wechatpay/${other}`))).toBe(false);
      // No other statement reaches a merchant parameter (ssm:* or GetParameter on the path).
      for (const s of allowed(cfn().statements(entry)).filter((s) => !byPath.includes(s)))
        for (const r of asArray<CfnValue>(s.Resource).map(text))
          expect(r).not.toContain(':parameter/payhooks/');
    });

    it.each(ENTRIES)('%s may call exactly the actions it needs', (entry) => {
      const actions = new Set(allowed(cfn().statements(entry)).flatMap(actionsOf));
      expect([...actions].sort()).toEqual([...new Set([...XRAY, ...ACTIONS[entry]])].sort());
      const managed = cfn().managedPolicyArns(entry);
      expect(managed.some((arn) => arn.includes('AWSLambdaBasicExecutionRole'))).toBe(true);
      expect(managed.some((arn) => arn.includes('AWSLambdaVPCAccessExecutionRole'))).toBe(
        (IN_VPC as readonly string[]).includes(entry),
      );
      expect(managed).toHaveLength((IN_VPC as readonly string[]).includes(entry) ? 2 : 1);
    });

    it('grant queue actions on the main queue only: send for ingress and sweep, consume for the consumer', () => {
      for (const entry of ['stripe-webhook', 'wechatpay-webhook', 'sweep-wechatpay', 'consumer'] as const) {
        const fn = cfn().fn(entry);
        const sqs = allowed(cfn().statements(entry)).filter((s) =>
          actionsOf(s).some((a) => a.startsWith('sqs:')),
        );
        expect(sqs).toHaveLength(1);
        const queue = resolved(cfn(), cfn().role(entry), sqs[0]!.Resource);
        expect(queue.id, `${entry} (${fn.id})`).toMatch(/^EventQueue/);
      }
    });

    it('grant rds-db:connect on the proxy user only, to the functions that use the database', () => {
      for (const entry of ENTRIES) {
        const connect = allowing(cfn().statements(entry), 'rds-db:connect');
        if (!OWN_ENV[entry].includes('DB_HOST')) {
          expect(connect, entry).toHaveLength(0);
          continue;
        }
        expect(connect).toHaveLength(1);
        const resource = text(connect[0]!.Resource);
        expect(resource).toContain(':rds-db:');
        expect(resource).toContain(':dbuser:');
        expect(resource).toMatch(/Proxy\w*DBProxyArn/);
        expect(resource).toMatch(new RegExp(`"/${DB_USER_OF[entry]}"\\]\\]\\}$`));
      }
    });

    it('size the reconciliation jobs for a 10,000,000-row bill: one vCPU, 4 GB of /tmp, 15 minutes', () => {
      for (const entry of ['recon-wechatpay', 'recon-stripe']) {
        const properties = cfn().fn(entry).resource.Properties;
        expect(properties.MemorySize).toBe(1769);
        expect(properties.EphemeralStorage).toEqual({ Size: 4096 });
        expect(properties.Timeout).toBe(900);
      }
    });

    it('grant S3 on the reports bucket per provider prefix to reconciliation, read-only to reports', () => {
      for (const [entry, prefix] of [
        ['recon-wechatpay', 'wechatpay/'],
        ['recon-stripe', 'stripe/'],
      ] as const) {
        const statements = allowed(cfn().statements(entry));
        const objects = statements.find((s) => actionsOf(s).includes('s3:PutObject'))!;
        expect(text(objects.Resource)).toContain(`"/${prefix}*"`);
        const list = statements.find((s) => actionsOf(s).includes('s3:ListBucket'))!;
        expect(list.Condition).toEqual({ StringLike: { 's3:prefix': [`${prefix}*`] } });
      }
      const reports = allowed(cfn().statements('reports'));
      expect(reports.flatMap(actionsOf)).not.toContain('s3:PutObject');
      const get = reports.find((s) => actionsOf(s).includes('s3:GetObject'))!;
      expect(resolved(cfn(), cfn().role('reports'), get.Resource['Fn::Join'][1][0]).id).toMatch(
        /^ReportsBucket/,
      );
    });
  });

  describe('Bundles (cold start)', () => {
    // Where SST wrote the function's split bundle: the entry .mjs and its chunks, side by side.
    const bundleDir = (entry: Entry) => {
      const { synthesized } = cfn();
      const handler = `packages/functions/src/${entry}.handler`;
      const found = Object.values(synthesized.stacks)
        .flatMap((s) => s.node.findAll())
        .filter((c) => (c as { props?: { handler?: string } }).props?.handler === handler);
      expect(found).toHaveLength(1);
      return path.join(synthesized.artifactsDir, found[0]!.node.addr, 'packages/functions/src');
    };
    // The files a cold start reads: the entry and, transitively, the chunks it imports statically.
    const coldStartFiles = (dir: string, entry: Entry) => {
      const seen = new Set<string>();
      const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        const code = readFileSync(path.join(dir, file), 'utf8');
        for (const m of code.matchAll(/(?:from|import)\s*"\.\/([^"]+\.mjs)"/g)) visit(m[1]!);
      };
      visit(`${entry}.mjs`);
      return seen;
    };

    it('every function is bundled split into chunks (nodejs.splitting), minified, without a source map', () => {
      for (const entry of ENTRIES) {
        const files = readdirSync(bundleDir(entry));
        expect(files).toContain(`${entry}.mjs`);
        expect(files.filter((f) => /^chunk-.+\.mjs$/.test(f)).length).toBeGreaterThan(0);
        expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
      }
    });

    it.each(['stripe-webhook', 'wechatpay-webhook'] as const)(
      '%s reads the SSM client only from a lazy chunk, when a secret comes from SSM',
      (entry) => {
        const dir = bundleDir(entry);
        const ssm = (file: string) => readFileSync(path.join(dir, file), 'utf8').includes('AmazonSSM');
        const eager = coldStartFiles(dir, entry);
        expect([...eager].filter(ssm)).toEqual([]);
        expect(readdirSync(dir).filter((f) => f.endsWith('.mjs') && !eager.has(f) && ssm(f))).not.toEqual([]);
      },
    );

    it('the Stripe webhook reads no zod at cold start (the envelope is built without a schema)', () => {
      const dir = bundleDir('stripe-webhook');
      const eager = [...coldStartFiles(dir, 'stripe-webhook')];
      expect(eager.filter((f) => readFileSync(path.join(dir, f), 'utf8').includes('ZodObject'))).toEqual([]);
      // The same probe finds zod where it is on the path (the consumer validates every envelope).
      const consumer = bundleDir('consumer');
      expect(
        [...coldStartFiles(consumer, 'consumer')].some((f) =>
          readFileSync(path.join(consumer, f), 'utf8').includes('ZodObject'),
        ),
      ).toBe(true);
    });
  });

  describe('Least privilege', () => {
    it('grants no wildcard action anywhere in the stage', () => {
      const wildcards = cfn()
        .allStatements()
        .filter(({ statement }) => statement.Effect === 'Allow')
        .flatMap(({ where, statement }) =>
          actionsOf(statement)
            .filter((a) => a === '*' || a.endsWith(':*'))
            .map((a) => `${where}: ${a}`),
        );
      expect(wildcards).toEqual([]);
    });

    it('grants `*` resources only for actions that AWS offers on no narrower resource', () => {
      const offenders = cfn()
        .allStatements()
        .filter(({ statement }) => statement.Effect === 'Allow' && asArray(statement.Resource).includes('*'))
        .flatMap(({ where, statement }) =>
          actionsOf(statement)
            .filter((a) => !STAR_RESOURCE_ACTIONS.has(a))
            .map((a) => `${where}: ${a}`),
        );
      expect(offenders).toEqual([]);
    });

    it('has no resource policy that allows anonymous principals', () => {
      const open = cfn()
        .allStatements()
        .filter(({ statement }) => statement.Effect === 'Allow' && statement.Principal !== undefined)
        .filter(
          ({ statement }) => statement.Principal === '*' || text(statement.Principal).includes('"AWS":"*"'),
        );
      expect(open).toEqual([]);
    });
  });

  describe('Reconciliation', () => {
    const rulesFor = (entry: string) =>
      cfn()
        .in('Reconciliation', 'AWS::Events::Rule')
        .filter((rule) =>
          rule.resource.Properties.Targets.some(
            (t: CfnValue) => resolved(cfn(), rule, t.Arn).id === cfn().fn(entry).id,
          ),
        )
        .map((rule) => rule.resource.Properties.ScheduleExpression as string);
    const cronTimes = (expression: string) => {
      const [minutes, hours] = /^cron\((\S+) (\S+) \* \* \? \*\)$/.exec(expression)!.slice(1) as [
        string,
        string,
      ];
      return hours.split(',').flatMap((h) => minutes.split(',').map((m) => Number(h) * 60 + Number(m)));
    };

    it('runs WeChat Pay reconciliation after 10:00 Asia/Shanghai with retries until noon', () => {
      const expressions = rulesFor('recon-wechatpay');
      expect(expressions.sort()).toEqual([...SCHEDULES.wechatpay].sort());
      const shanghai = expressions.flatMap(cronTimes).map((utc) => (utc + 8 * 60) % (24 * 60));
      expect(Math.min(...shanghai)).toBeGreaterThan(10 * 60);
      expect(Math.max(...shanghai)).toBeLessThanOrEqual(12 * 60);
      expect(shanghai.length).toBeGreaterThanOrEqual(3);
    });

    it('runs Stripe reconciliation from 12:00 UTC and the WeChat Pay sweep every 15 minutes', () => {
      const stripe = rulesFor('recon-stripe').flatMap(cronTimes);
      expect(Math.min(...stripe)).toBeGreaterThanOrEqual(12 * 60);
      expect(rulesFor('sweep-wechatpay')).toEqual(['rate(15 minutes)']);
      expect(rulesFor('revalidate-stripe')).toEqual(['rate(5 minutes)']);
      expect(rulesFor('consistency-stripe')).toEqual(['rate(6 hours)']);
      expect(rulesFor('consistency-wechatpay')).toEqual(['rate(6 hours)']);
      for (const rule of cfn().in('Reconciliation', 'AWS::Events::Rule')) {
        expect(rule.resource.Properties.Targets[0].RetryPolicy).toEqual({
          MaximumRetryAttempts: 2,
          MaximumEventAgeInSeconds: 3600,
        });
      }
    });

    it('keeps reports in a private, encrypted, TLS-only bucket with lifecycle rules', () => {
      const bucket = cfn().one('Reconciliation', 'AWS::S3::Bucket');
      const props = bucket.resource.Properties;
      expect(props.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(props.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
      expect(
        props.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault,
      ).toEqual({
        SSEAlgorithm: 'AES256',
      });
      const [rule] = props.LifecycleConfiguration.Rules;
      expect(rule).toMatchObject({
        Status: 'Enabled',
        ExpirationInDays: settings.reports.expireAfterDays,
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      });
      const policy = cfn().one('Reconciliation', 'AWS::S3::BucketPolicy');
      expect(resolved(cfn(), policy, policy.resource.Properties.Bucket).id).toBe(bucket.id);
      const denies = (policy.resource.Properties.PolicyDocument.Statement as Statement[]).filter(
        (s) => s.Effect === 'Deny',
      );
      expect(denies.map((s) => s.Condition)).toEqual(
        expect.arrayContaining([
          { Bool: { 'aws:SecureTransport': 'false' } },
          { NumericLessThan: { 's3:TlsVersion': 1.2 } },
        ]),
      );
    });

    it(
      settings.isProd ? 'prod retains and versions the bucket' : 'empties and deletes the bucket on removal',
      () => {
        const bucket = cfn().one('Reconciliation', 'AWS::S3::Bucket').resource;
        expect(bucket.DeletionPolicy).toBe(settings.isProd ? 'Retain' : 'Delete');
        expect(bucket.Properties.VersioningConfiguration?.Status).toBe(
          settings.isProd ? 'Enabled' : undefined,
        );
        expect(cfn().in('Reconciliation', 'Custom::S3AutoDeleteObjects')).toHaveLength(
          settings.isProd ? 0 : 1,
        );
      },
    );
  });

  describe('Monitoring', () => {
    const alarms = () => cfn().in('Monitoring', 'AWS::CloudWatch::Alarm');
    const byMetric = (metricName: string) =>
      alarms().filter((a) => a.resource.Properties.MetricName === metricName);
    const dimensionTarget = (alarm: Located) =>
      resolved(cfn(), alarm, alarm.resource.Properties.Dimensions[0].Value);

    it('alarms on any message in the DLQ and on the age of the oldest queued message', () => {
      const [dlq] = byMetric('ApproximateNumberOfMessagesVisible');
      expect(dlq!.resource.Properties).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
      expect(dimensionTarget(dlq!).resource.Properties.RedrivePolicy).toBeUndefined();
      const [age] = byMetric('ApproximateAgeOfOldestMessage');
      expect(age!.resource.Properties.Threshold).toBe(settings.alarms.oldestMessageAgeSeconds);
      expect(dimensionTarget(age!).id).toMatch(/^EventQueue/);
    });

    it('alarms on ingress 5xx and 4xx rates computed from the HTTP API metrics', () => {
      const rates = alarms().filter((a) => a.resource.Properties.Metrics);
      const metricNames = rates.map((a) =>
        a.resource.Properties.Metrics.filter((m: CfnValue) => m.MetricStat)
          .map((m: CfnValue) => m.MetricStat.Metric.MetricName)
          .sort(),
      );
      expect(metricNames).toEqual(
        expect.arrayContaining([
          ['5xx', 'Count'],
          ['4xx', 'Count'],
        ]),
      );
      for (const alarm of rates) {
        for (const m of alarm.resource.Properties.Metrics.filter((x: CfnValue) => x.MetricStat)) {
          expect(m.MetricStat.Metric.Namespace).toBe('AWS/ApiGateway');
          expect(resolved(cfn(), alarm, m.MetricStat.Metric.Dimensions[0].Value).resource.Type).toBe(
            'AWS::ApiGatewayV2::Api',
          );
        }
      }
    });

    it('alarms on consumer errors and on failed reconciliation and sweep runs', () => {
      const failing = byMetric('Errors').map((a) => dimensionTarget(a).resource.Properties.Handler);
      expect(failing.sort()).toEqual(
        [
          'consumer',
          'recon-wechatpay',
          'recon-stripe',
          'sweep-wechatpay',
          'revalidate-stripe',
          'consistency-stripe',
          'consistency-wechatpay',
          'certificates-wechatpay',
          'purge-raw-payloads',
        ]
          .map((e) => `packages/functions/src/${e}.handler`)
          .sort(),
      );
    });

    it('alarms on unhealed reconciliation breaks per provider', () => {
      const breaks = byMetric('UnhealedBreaks');
      const services = breaks.map((a) => {
        expect(a.resource.Properties.Dimensions).toHaveLength(1);
        expect(a.resource.Properties.Dimensions[0].Name).toBe('service');
        return a.resource.Properties.Dimensions[0].Value;
      });
      expect(services.sort()).toEqual(['recon-stripe', 'recon-wechatpay']);
      for (const alarm of breaks) {
        expect(alarm.resource.Properties).toMatchObject({ Namespace: `payhooks/${stage}`, Threshold: 0 });
      }
    });

    it('alarms on consistency drift above 0.5 % per provider', () => {
      const drift = alarms().filter((a) => String(a.id).includes('Drift'));
      // Logical ids end in the construct path's 8-digit hash.
      const ids = drift.map((a) => String(a.id).replace(/[0-9A-F]{8}$/, '')).sort();
      expect(ids).toEqual(['ConsistencyStripeDrift', 'ConsistencyWechatpayDrift']);
      for (const alarm of drift) {
        expect(alarm.resource.Properties.Threshold).toBe(0.5);
        expect(text(alarm.resource.Properties.Metrics)).toContain('ConsistencyDrift');
      }
    });

    it('alarms on the p99 ledger lag of the consumer above the stage bound (default 5 s)', () => {
      const [lag, ...others] = byMetric('LedgerLag');
      expect(others).toHaveLength(0);
      expect(settings.alarms.ledgerLagP99Ms).toBe(5_000);
      expect(lag!.resource.Properties).toMatchObject({
        Namespace: `payhooks/${stage}`,
        Dimensions: [{ Name: 'service', Value: 'consumer' }],
        ExtendedStatistic: 'p99',
        Unit: 'Milliseconds',
        Threshold: settings.alarms.ledgerLagP99Ms,
        ComparisonOperator: 'GreaterThanThreshold',
      });
      expect(lag!.resource.Properties.Statistic).toBeUndefined();
      expect(lag!.resource.Properties.AlarmActions).toHaveLength(1);
    });

    it('alarms on pinned proxy sessions and on proxy and database connection counts', () => {
      const [pinned] = byMetric('DatabaseConnectionsCurrentlySessionPinned');
      expect(pinned!.resource.Properties).toMatchObject({ Namespace: 'AWS/RDS', Threshold: 0 });
      expect(dimensionTarget(pinned!).resource.Type).toBe('AWS::RDS::DBProxy');
      const [clients] = byMetric('ClientConnections');
      expect(clients!.resource.Properties.Threshold).toBe(settings.alarms.proxyClientConnections);
      expect(settings.alarms.proxyClientConnections).toBeGreaterThan(settings.consumer.maxConcurrency);
      const [db] = byMetric('DatabaseConnections');
      expect(dimensionTarget(db!).resource.Type).toBe('AWS::RDS::DBCluster');
    });

    it('sends every alarm (and its recovery) to the alerts topic', () => {
      expect(alarms().length).toBeGreaterThanOrEqual(13);
      for (const alarm of alarms()) {
        for (const key of ['AlarmActions', 'OKActions']) {
          const targets = alarm.resource.Properties[key].map(
            (v: CfnValue) => resolved(cfn(), alarm, v).resource.Type,
          );
          expect(targets, `${alarm.id} ${key}`).toEqual(['AWS::SNS::Topic']);
        }
      }
      const topicPolicy = cfn().one('Alerts', 'AWS::SNS::TopicPolicy').resource.Properties.PolicyDocument;
      expect(topicPolicy.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    });
  });

  describe('Network', () => {
    it(
      settings.isProd ? 'prod uses a NAT gateway per AZ' : 'uses a single t4g.nano NAT instance (cost)',
      () => {
        const instances = cfn().in('Network', 'AWS::EC2::Instance');
        const gateways = cfn().in('Network', 'AWS::EC2::NatGateway');
        if (settings.isProd) {
          expect(gateways).toHaveLength(2);
          expect(instances).toHaveLength(0);
        } else {
          expect(gateways).toHaveLength(0);
          expect(instances.map((i) => i.resource.Properties.InstanceType)).toEqual(['t4g.nano']);
        }
      },
    );

    it('has the free S3 gateway endpoint and no paid interface endpoints', () => {
      const endpoints = cfn().in('Network', 'AWS::EC2::VPCEndpoint');
      expect(endpoints.map((e) => e.resource.Properties.VpcEndpointType)).toEqual(['Gateway']);
      expect(text(endpoints[0]!.resource.Properties.ServiceName)).toContain('.s3');
    });

    it('gives the database subnets no route out of the VPC', () => {
      const network = cfn().templates.Network.Resources;
      const isolated = Object.entries(network)
        .filter(([, r]) => r.Type === 'AWS::EC2::Subnet' && tag(r, 'aws-cdk:subnet-type') === 'Isolated')
        .map(([id]) => id);
      expect(isolated).toHaveLength(2);
      const tables = Object.values(network)
        .filter((r) => r.Type === 'AWS::EC2::SubnetRouteTableAssociation')
        .filter((r) => isolated.includes(r.Properties.SubnetId.Ref))
        .map((r) => r.Properties.RouteTableId.Ref);
      const routes = Object.values(network).filter(
        (r) => r.Type === 'AWS::EC2::Route' && tables.includes(r.Properties.RouteTableId.Ref),
      );
      expect(tables).toHaveLength(2);
      expect(routes).toEqual([]);
    });
  });

  describe('Stage rules', () => {
    it('sets log retention per stage on every function log group', () => {
      for (const entry of ENTRIES) {
        const fn = cfn().fn(entry);
        const logGroup = resolved(cfn(), fn, fn.resource.Properties.LoggingConfig.LogGroup);
        expect(logGroup.resource.Properties.RetentionInDays).toBe(settings.isProd ? 365 : 7);
        expect(logGroup.resource.DeletionPolicy).toBe(settings.isProd ? 'Retain' : 'Delete');
      }
    });

    it(
      settings.isProd
        ? 'prod retains only stateful resources'
        : 'retains nothing, so `sst remove` removes all',
      () => {
        const retained = cfn()
          .all()
          .filter(
            ({ resource }) => resource.DeletionPolicy !== undefined && resource.DeletionPolicy !== 'Delete',
          )
          .map(({ resource }) => resource.Type);
        if (!settings.isProd) {
          expect(retained).toEqual([]);
          return;
        }
        expect(new Set(retained)).toEqual(
          new Set([
            'AWS::RDS::DBCluster',
            'AWS::RDS::DBInstance',
            'AWS::RDS::DBSubnetGroup',
            'AWS::SecretsManager::Secret',
            'AWS::S3::Bucket',
            'AWS::Logs::LogGroup',
            // The console's users (issue 16): deleting the pool would lock finance and ops out.
            'AWS::Cognito::UserPool',
          ]),
        );
      },
    );
  });
});
