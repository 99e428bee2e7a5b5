// The console and the order-status API on AWS, asserted on the synthesized CloudFormation of both stages (the
// shared synthesis of infra-tests/synth.ts): every /console/api/* route behind the JWT authorizer of the stage's
// user pool and none without it; the public console routes reach only the static function, which can read
// nothing; the console API's database role, secrets and IAM actions exactly; the order routes IAM-authorized
// through the read-only role; the user pool's sign-in rules and the stack outputs. cdk-nag: infra-tests/nag.test.ts.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ORDER_ROUTES } from '../stacks/Api.ts';
import { CONSOLE_API_ROUTES, CONSOLE_PUBLIC_ROUTES } from '../stacks/Console.ts';
import { CONSOLE_GROUPS } from '../stacks/ConsoleAuth.ts';
import { DB_ROLES } from '../stacks/Database.ts';
import { actionsOf, asArray, type CfnValue, type Located, StageCfn, type Statement, text } from './cfn.ts';
import { synthesize } from './synth.ts';

const STAGES = ['dev', 'prod'] as const;
type StageName = (typeof STAGES)[number];
const built = {} as Record<StageName, StageCfn>;

beforeAll(async () => {
  for (const stage of STAGES) built[stage] = new StageCfn(await synthesize(stage));
}, 900_000);

const XRAY = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];
const allowed = (statements: Statement[]) => statements.filter((s) => s.Effect === 'Allow');
const DB_ENV = ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_MAX_CONNECTIONS'];

describe.each(STAGES)('%s stage', (stage) => {
  const cfn = () => built[stage];
  const resolved = (from: Located, value: CfnValue): Located => {
    const target = cfn().resolve(from.stack, value);
    if (!target) throw new Error(`unresolvable ${text(value)} in ${from.stack}/${from.id}`);
    return target;
  };
  /** Every route of the stage's HTTP API with its authorization and the handler it reaches. */
  const routes = () =>
    cfn()
      .all('AWS::ApiGatewayV2::Route')
      .map((route) => {
        const integration = resolved(route, route.resource.Properties.Target['Fn::Join'][1][1]);
        const fn = resolved(integration, integration.resource.Properties.IntegrationUri);
        return {
          key: route.resource.Properties.RouteKey as string,
          auth: route.resource.Properties.AuthorizationType as string,
          authorizer: route.resource.Properties.AuthorizerId
            ? resolved(route, route.resource.Properties.AuthorizerId)
            : undefined,
          handler: fn.resource.Properties.Handler as string,
        };
      });
  const h = (entry: string) => `packages/functions/src/${entry}.handler`;
  /** The resources a role's statements grant `action` on, resolved to logical ids (or their text). */
  const grantedOn = (of: string, action: string) => {
    const role = cfn().role(of);
    return allowed(cfn().statements(of))
      .filter((s) => actionsOf(s).includes(action))
      .flatMap((s) => asArray<CfnValue>(s.Resource))
      .map((r) => (typeof r === 'string' ? r : (cfn().resolve(role.stack, r)?.id ?? text(r))));
  };

  const userPool = () => cfn().one('ConsoleAuth', 'AWS::Cognito::UserPool');
  const client = () => cfn().one('ConsoleAuth', 'AWS::Cognito::UserPoolClient');

  describe('console routes', () => {
    it('every /console/api/* route and every route to the console API has the JWT authorizer', () => {
      const api = routes().filter(
        (r) => r.key.includes('/console/api') || r.handler === h('handlers/console-api'),
      );
      expect(api.map((r) => r.key).sort()).toEqual([...CONSOLE_API_ROUTES].sort());
      for (const route of api) {
        expect(route, route.key).toMatchObject({ auth: 'JWT', handler: h('handlers/console-api') });
        expect(route.authorizer?.resource.Type).toBe('AWS::ApiGatewayV2::Authorizer');
      }
      expect(new Set(api.map((r) => r.authorizer?.id)).size).toBe(1);
    });

    it('the authorizer trusts ID tokens of this stage’s user pool for its app client only', () => {
      const authorizer = cfn().one('Api', 'AWS::ApiGatewayV2::Authorizer');
      const props = authorizer.resource.Properties;
      expect(props).toMatchObject({
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
      });
      const issuer = text(props.JwtConfiguration.Issuer);
      expect(issuer).toContain('https://cognito-idp.');
      const audience = asArray<CfnValue>(props.JwtConfiguration.Audience);
      expect(audience).toHaveLength(1);
      expect(resolved(authorizer, audience[0]).id).toBe(client().id);
      // The issuer names the pool by its id (an import of the ConsoleAuth stack's user pool Ref).
      const poolRef = props.JwtConfiguration.Issuer['Fn::Join'][1].find(
        (p: CfnValue) => typeof p === 'object',
      );
      expect(resolved(authorizer, poolRef).id).toBe(userPool().id);
    });

    it('the public routes are exactly the page, its assets and config.json, served by the static function', () => {
      const open = routes().filter(
        (r) => r.key.startsWith('GET /console') && !r.key.includes('/console/api'),
      );
      expect(open.map((r) => r.key).sort()).toEqual([...CONSOLE_PUBLIC_ROUTES].sort());
      for (const route of open)
        expect(route, route.key).toMatchObject({ auth: 'NONE', handler: h('handlers/console-static') });
      // No other function is reachable without credentials except the signature-checking webhooks.
      const unauthenticated = routes().filter((r) => r.auth === 'NONE');
      expect(new Set(unauthenticated.map((r) => r.handler))).toEqual(
        new Set([h('stripe-webhook'), h('wechatpay-webhook'), h('handlers/console-static')]),
      );
    });

    it('the static function can read no data: no VPC, no database, no queue, no bucket, no secret', () => {
      const fn = cfn().fn('handlers/console-static');
      expect(fn.resource.Properties.VpcConfig).toBeUndefined();
      const env = cfn().env('handlers/console-static');
      for (const key of Object.keys(env)) expect(key).not.toMatch(/^(DB_|QUEUE|DLQ|REPORTS|SST_Secret)/);
      expect(env.CONSOLE_CLIENT_ID).toBeDefined();
      expect(resolved(fn, env.CONSOLE_CLIENT_ID).id).toBe(client().id);
      const actions = new Set(allowed(cfn().statements('handlers/console-static')).flatMap(actionsOf));
      expect([...actions].sort()).toEqual([...XRAY].sort());
    });

    it('the static function ships the page assets built at synthesis', () => {
      const { synthesized } = cfn();
      const handler = h('handlers/console-static');
      const [construct] = Object.values(synthesized.stacks)
        .flatMap((s) => s.node.findAll())
        .filter((c) => (c as { props?: { handler?: string } }).props?.handler === handler);
      const dir = path.join(
        synthesized.artifactsDir,
        construct!.node.addr,
        'packages/functions/src/handlers/console-assets',
      );
      expect(readdirSync(dir).sort()).toEqual(['app.css', 'app.js']);
    });
  });

  const upload = 'handlers/console-upload';

  describe('console API function', () => {
    const entry = 'handlers/console-api';

    it('runs in the VPC as the console database role, connecting as exactly that user', () => {
      const fn = cfn().fn(entry);
      expect(fn.resource.Properties.VpcConfig.SubnetIds).toHaveLength(2);
      const env = cfn().env(entry);
      expect(env.DB_USER).toBe(DB_ROLES.console);
      expect(resolved(fn, env.DB_HOST).resource.Type).toBe('AWS::RDS::DBProxy');
      const connect = allowed(cfn().statements(entry)).filter((s) => actionsOf(s).includes('rds-db:connect'));
      expect(connect).toHaveLength(1);
      expect(text(connect[0]!.Resource)).toMatch(new RegExp(`"/${DB_ROLES.console}"\\]\\]\\}$`));
    });

    it('gets exactly its environment: database, reports bucket, link lifetime, both queues, the upload function; no secret', () => {
      const env = cfn().env(entry);
      const own = Object.keys(env).filter(
        (key) => !/^(PAYHOOKS_|LOG_LEVEL|POWERTOOLS_|AWS_NODEJS_|SST_(APP|STAGE|SSM_PREFIX)$)/.test(key),
      );
      expect(own.sort()).toEqual(
        [
          ...DB_ENV,
          'REPORTS_BUCKET',
          'REPORT_LINK_SECONDS',
          'QUEUE_URL',
          'DLQ_URL',
          'CONSOLE_UPLOAD_FUNCTION',
          'CONSOLE_UPLOAD_TIMEOUT_SECONDS',
        ].sort(),
      );
      expect(resolved(cfn().fn(entry), env.QUEUE_URL).id).toMatch(/^EventQueue/);
      expect(resolved(cfn().fn(entry), env.DLQ_URL).id).toMatch(/^DeadLetterQueue/);
      expect(resolved(cfn().fn(entry), env.REPORTS_BUCKET).id).toMatch(/^ReportsBucket/);
      expect(resolved(cfn().fn(entry), env.CONSOLE_UPLOAD_FUNCTION).id).toBe(cfn().fn(upload).id);
      // An upload not ended within the upload function's own timeout is answered as stalled.
      expect(Number(env.CONSOLE_UPLOAD_TIMEOUT_SECONDS)).toBe(cfn().fn(upload).resource.Properties.Timeout);
      // The rejections query reads the webhooks' namespace: the same one every function of the stage gets.
      expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe(`payhooks/${stage}`);
      expect(cfn().env('stripe-webhook').POWERTOOLS_METRICS_NAMESPACE).toBe(env.POWERTOOLS_METRICS_NAMESPACE);
    });

    it('may call exactly: connect, read report files, the DLQ and main queue, metrics, upload and invoke', () => {
      const statements = allowed(cfn().statements(entry));
      const actions = new Set(statements.flatMap(actionsOf));
      expect([...actions].sort()).toEqual(
        [
          ...XRAY,
          'rds-db:connect',
          's3:GetObject',
          's3:ListBucket',
          's3:PutObject',
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:SendMessage',
          'cloudwatch:GetMetricData',
          'lambda:InvokeFunction',
        ].sort(),
      );
      const dlq = expect.stringMatching(/^DeadLetterQueue/);
      const main = expect.stringMatching(/^EventQueue/);
      for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'])
        expect(grantedOn(entry, action), action).toEqual([dlq]);
      expect(grantedOn(entry, 'sqs:SendMessage')).toEqual([main]);
      expect(grantedOn(entry, 'sqs:GetQueueAttributes').sort()).toEqual([dlq, main].sort());
      // GetMetricData takes no resource but `*`, and reads metrics only.
      expect(grantedOn(entry, 'cloudwatch:GetMetricData')).toEqual(['*']);
      // Invokes the upload function and no other.
      expect(grantedOn(entry, 'lambda:InvokeFunction')).toEqual([cfn().fn(upload).id]);
      // Report objects under the provider prefixes and the uploads' status objects, never the whole bucket or the
      // uploaded files; writes only under uploads/.
      const objects = grantedOn(entry, 's3:GetObject').map(String);
      expect(objects).toHaveLength(3);
      expect(objects.some((r) => r.includes('"/wechatpay/*"'))).toBe(true);
      expect(objects.some((r) => r.includes('"/stripe/*"'))).toBe(true);
      expect(objects.some((r) => r.includes('"/uploads/*.status.json"'))).toBe(true);
      expect(objects.some((r) => r.includes('"/uploads/*"'))).toBe(false);
      const puts = statements.filter((s) => actionsOf(s).includes('s3:PutObject'));
      expect(puts).toHaveLength(1);
      expect(actionsOf(puts[0]!)).toEqual(['s3:PutObject']);
      const putTargets = asArray<CfnValue>(puts[0]!.Resource).map(text);
      expect(putTargets).toHaveLength(1);
      expect(putTargets[0]).toContain('"/uploads/*"');
    });

    it('can read no Stripe secret, no WeChat Pay merchant parameter and no database secret', () => {
      const statements = allowed(cfn().statements(entry));
      const actions = statements.flatMap(actionsOf);
      for (const action of actions) expect(action).not.toMatch(/^(ssm|secretsmanager|kms):/);
      for (const resource of statements.flatMap((s) => asArray<CfnValue>(s.Resource)).map(text))
        expect(resource).not.toMatch(/:parameter\/|:secret:/);
      expect(Object.keys(cfn().env(entry)).filter((k) => k.startsWith('SST_Secret_value_'))).toEqual([]);
      expect(cfn().env(entry).WECHATPAY_PARAMETERS).toBeUndefined();
    });
  });

  describe('console upload function', () => {
    it('runs in the VPC as the reconciliation role (payhooks_app), never the console’s', () => {
      const fn = cfn().fn(upload);
      expect(fn.resource.Properties.VpcConfig.SubnetIds).toHaveLength(2);
      const env = cfn().env(upload);
      expect(env.DB_USER).toBe(DB_ROLES.app);
      const connect = allowed(cfn().statements(upload)).filter((s) =>
        actionsOf(s).includes('rds-db:connect'),
      );
      expect(connect).toHaveLength(1);
      expect(text(connect[0]!.Resource)).toMatch(new RegExp(`"/${DB_ROLES.app}"\\]\\]\\}$`));
    });

    it('gets exactly its environment (database, reports bucket) and no secret', () => {
      const env = cfn().env(upload);
      const own = Object.keys(env).filter(
        (key) => !/^(PAYHOOKS_|LOG_LEVEL|POWERTOOLS_|AWS_NODEJS_|SST_(APP|STAGE|SSM_PREFIX)$)/.test(key),
      );
      expect(own.sort()).toEqual([...DB_ENV, 'REPORTS_BUCKET'].sort());
      expect(resolved(cfn().fn(upload), env.REPORTS_BUCKET).id).toMatch(/^ReportsBucket/);
    });

    it('is invoked asynchronously without retries; an event not started within two minutes is dropped', () => {
      const configs = cfn()
        .all('AWS::Lambda::EventInvokeConfig')
        .filter(
          (c) => cfn().resolve(c.stack, c.resource.Properties.FunctionName)?.id === cfn().fn(upload).id,
        );
      expect(configs).toHaveLength(1);
      expect(configs[0]!.resource.Properties).toMatchObject({
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 120,
      });
    });

    it('may call exactly: connect, read uploads, write their status, read and write reports under the provider prefixes', () => {
      const statements = allowed(cfn().statements(upload));
      expect([...new Set(statements.flatMap(actionsOf))].sort()).toEqual(
        [...XRAY, 'rds-db:connect', 's3:GetObject', 's3:PutObject', 's3:ListBucket'].sort(),
      );
      const objects = (action: string) => grantedOn(upload, action).map(String);
      const gets = objects('s3:GetObject');
      expect(gets).toHaveLength(3);
      for (const prefix of ['uploads', 'wechatpay', 'stripe'])
        expect(
          gets.some((r) => r.includes(`"/${prefix}/*"`)),
          prefix,
        ).toBe(true);
      const puts = objects('s3:PutObject');
      expect(puts).toHaveLength(3);
      expect(puts.some((r) => r.includes('"/uploads/*"'))).toBe(false);
      expect(puts.some((r) => r.includes('"/uploads/*.status.json"'))).toBe(true);
      for (const action of statements.flatMap(actionsOf))
        expect(action).not.toMatch(/^(ssm|secretsmanager|kms):/);
      expect(Object.keys(cfn().env(upload)).filter((k) => k.startsWith('SST_Secret_value_'))).toEqual([]);
      expect(cfn().env(upload).WECHATPAY_PARAMETERS).toBeUndefined();
    });

    it('no route reaches it: only the console API may invoke it', () => {
      expect(routes().filter((r) => r.handler === h(upload))).toEqual([]);
      const permissions = cfn()
        .all('AWS::Lambda::Permission')
        .filter(
          (p) => cfn().resolve(p.stack, p.resource.Properties.FunctionName)?.id === cfn().fn(upload).id,
        );
      expect(permissions).toEqual([]);
    });
  });

  describe('order-status API', () => {
    it('both order routes are IAM-authorized and reach the orders function', () => {
      const orders = routes().filter((r) => r.key.startsWith('GET /orders'));
      expect(orders.map((r) => r.key).sort()).toEqual(Object.values(ORDER_ROUTES).sort());
      for (const route of orders)
        expect(route, route.key).toMatchObject({ auth: 'AWS_IAM', handler: h('handlers/orders-api') });
    });

    it('reads through the read-only role and may do nothing but connect', () => {
      const env = cfn().env('handlers/orders-api');
      expect(env.DB_USER).toBe(DB_ROLES.readonly);
      expect(env.ORDERS_OPENAPI_FILE).toBe('openapi/orders.yaml');
      const statements = allowed(cfn().statements('handlers/orders-api'));
      expect([...new Set(statements.flatMap(actionsOf))].sort()).toEqual([...XRAY, 'rds-db:connect'].sort());
      const connect = statements.find((s) => actionsOf(s).includes('rds-db:connect'))!;
      expect(text(connect.Resource)).toMatch(new RegExp(`"/${DB_ROLES.readonly}"\\]\\]\\}$`));
    });

    it('gives the merchant apps a managed policy that can invoke GET /orders/… and nothing else', () => {
      const policy = cfn()
        .in('Api', 'AWS::IAM::ManagedPolicy')
        .find((p) => p.id.startsWith('OrderStatusAccess'))!;
      const statements: Statement[] = policy.resource.Properties.PolicyDocument.Statement;
      expect(statements).toHaveLength(1);
      expect(statements[0]!.Action).toBe('execute-api:Invoke');
      const resources = asArray<CfnValue>(statements[0]!.Resource).map(text);
      expect(resources).toHaveLength(1);
      expect(resources[0]).toContain('/*/GET/orders/*"');
    });
  });

  describe('user pool', () => {
    it('admins create users (no self sign-up); strong passwords; optional TOTP MFA; threat protection enforced', () => {
      const props = userPool().resource.Properties;
      expect(props.AdminCreateUserConfig.AllowAdminCreateUserOnly).toBe(true);
      expect(props.Policies.PasswordPolicy).toMatchObject({
        MinimumLength: 14,
        RequireLowercase: true,
        RequireUppercase: true,
        RequireNumbers: true,
        RequireSymbols: true,
      });
      expect(props.MfaConfiguration).toBe('OPTIONAL');
      expect(props.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
      expect(props.UserPoolAddOns).toEqual({ AdvancedSecurityMode: 'ENFORCED' });
      expect(props.UsernameAttributes).toEqual(['email']);
    });

    it('has the finance and ops groups', () => {
      const groups = cfn()
        .in('ConsoleAuth', 'AWS::Cognito::UserPoolGroup')
        .map((g) => {
          expect(resolved(g, g.resource.Properties.UserPoolId).id).toBe(userPool().id);
          return g.resource.Properties.GroupName;
        });
      expect(groups.sort()).toEqual(Object.keys(CONSOLE_GROUPS).sort());
    });

    it('has one public app client: password and SRP sign-in, no secret, short-lived tokens', () => {
      const props = client().resource.Properties;
      expect(props.GenerateSecret).toBe(false);
      expect([...props.ExplicitAuthFlows].sort()).toEqual(
        ['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH'].sort(),
      );
      expect(props.PreventUserExistenceErrors).toBe('ENABLED');
      expect(props.IdTokenValidity).toBe(60);
      expect(cfn().in('ConsoleAuth', 'AWS::Cognito::IdentityPool')).toEqual([]);
    });

    it('outputs the console URL, the user pool id and the client id', () => {
      const outputs = { ...cfn().templates.ConsoleAuth.Outputs, ...cfn().templates.Api.Outputs };
      expect(Object.keys(outputs)).toEqual(
        expect.arrayContaining([
          'ConsoleUrl',
          'ConsoleUserPoolId',
          'ConsoleUserPoolClientId',
          'OrderStatusUrl',
        ]),
      );
      expect(text(outputs.ConsoleUrl!.Value)).toContain('/console');
    });
  });
});
