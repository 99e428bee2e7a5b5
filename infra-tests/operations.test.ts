// The operations function the CLI invokes for `--stage`: in the VPC behind the functions security group, the app
// database role through the proxy, exactly the actions its work needs on exactly its resources, the stage output
// the CLI finds it by, and nothing that lets anyone but an IAM principal with lambda:InvokeFunction reach it.
import { beforeAll, describe, expect, it } from 'vitest';
import { DB_ROLES } from '../stacks/Database.ts';
import { OPERATIONS_CONCURRENCY } from '../stacks/Operations.ts';
import { actionsOf, asArray, type CfnValue, StageCfn, type Statement, text } from './cfn.ts';
import { synthesize } from './synth.ts';

let cfn: StageCfn;
beforeAll(async () => {
  cfn = new StageCfn(await synthesize('dev'));
}, 900_000);

const allowed = (statements: Statement[]) => statements.filter((s) => s.Effect === 'Allow');
const withAction = (action: string) =>
  allowed(cfn.statements('operations')).filter((s) => actionsOf(s).includes(action));

describe('operations function', () => {
  it('runs in the private function subnets behind the functions security group, with bounded concurrency', () => {
    const fn = cfn.fn('operations');
    const vpc = fn.resource.Properties.VpcConfig;
    expect(vpc.SubnetIds).toHaveLength(2);
    for (const subnet of vpc.SubnetIds) {
      const located = cfn.resolve(fn.stack, subnet)!;
      const tags = asArray<{ Key: string; Value: string }>(located.resource.Properties.Tags);
      expect(tags.find((t) => t.Key === 'aws-cdk:subnet-name')?.Value).toBe('functions');
      expect(tags.find((t) => t.Key === 'aws-cdk:subnet-type')?.Value).toBe('Private');
    }
    expect(vpc.SecurityGroupIds.map((sg: CfnValue) => cfn.resolve(fn.stack, sg)!.id)).toEqual([
      expect.stringMatching(/^FunctionsSecurityGroup/),
    ]);
    expect(fn.resource.Properties.ReservedConcurrentExecutions).toBe(OPERATIONS_CONCURRENCY);
    expect(fn.resource.Properties.Timeout).toBe(900);
  });

  it('connects as the app role through the proxy, with one connection and no password', () => {
    const env = cfn.env('operations');
    expect(env.DB_USER).toBe(DB_ROLES.app);
    expect(env.DB_MAX_CONNECTIONS).toBe('1');
    expect(Object.keys(env)).not.toContain('DATABASE_URL');
    expect(Object.keys(env).filter((k) => /PASSWORD|SECRET_ARN/.test(k))).toEqual([]);
    const connect = withAction('rds-db:connect');
    expect(connect).toHaveLength(1);
    expect(text(connect[0]!.Resource)).toContain(`/${DB_ROLES.app}`);
    expect(withAction('secretsmanager:GetSecretValue')).toHaveLength(0);
  });

  it('may call exactly the actions its work needs', () => {
    const actions = new Set(allowed(cfn.statements('operations')).flatMap(actionsOf));
    expect([...actions].sort()).toEqual(
      [
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'rds-db:connect',
        's3:GetObject',
        's3:PutObject',
        's3:ListBucket',
        'sqs:SendMessage',
        'ssm:GetParameters', // STRIPE_API_KEY (SST Config.Secret)
        'ssm:GetParametersByPath', // WeChat Pay merchant parts
      ].sort(),
    );
  });

  it('reaches the reports bucket under the provider prefixes and the main queue only', () => {
    const written = withAction('s3:PutObject').flatMap((s) => asArray<CfnValue>(s.Resource).map(text));
    // Besides the reports, backfills put oversized events under the claim-check prefixes (claim-check.test.ts).
    const objects = written.filter((r) => !r.includes('ClaimCheckBucket'));
    expect(written.filter((r) => r.includes('ClaimCheckBucket'))).toHaveLength(2);
    expect(objects).toHaveLength(2);
    expect(objects.some((r) => r.includes('ReportsBucket') && r.includes('/wechatpay/*'))).toBe(true);
    expect(objects.some((r) => r.includes('ReportsBucket') && r.includes('/stripe/*'))).toBe(true);
    const list = withAction('s3:ListBucket');
    expect(list).toHaveLength(1);
    expect(text(list[0]!.Condition)).toContain('wechatpay/*');
    const send = withAction('sqs:SendMessage');
    expect(send).toHaveLength(1);
    const queue = cfn.resolve(cfn.fn('operations').stack, send[0]!.Resource);
    expect(queue?.id ?? text(send[0]!.Resource)).toMatch(/EventQueue/);
  });

  it('has no resource policy or URL: only IAM principals allowed lambda:InvokeFunction can call it', () => {
    const fn = cfn.fn('operations');
    const permissions = cfn
      .all('AWS::Lambda::Permission')
      .filter((p) => cfn.resolve(p.stack, p.resource.Properties.FunctionName)?.id === fn.id);
    expect(permissions).toEqual([]);
    expect(cfn.all('AWS::Lambda::Url')).toEqual([]);
  });

  it('is found by the CLI from the Operations stack output', () => {
    const outputs = cfn.templates.Operations.Outputs ?? {};
    expect(cfn.resolve('Operations', outputs.OperationsFunctionName?.Value)?.id).toBe(
      cfn.fn('operations').id,
    );
  });
});
