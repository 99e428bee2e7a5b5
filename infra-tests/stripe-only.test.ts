// A stage that takes Stripe only (stacks/stages.ts `providers: ['stripe']`) deploys: no WeChat Pay function,
// route, schedule, alarm or merchant-parameter grant, and its preflight is told to check no merchant material
// (before, every stage was refused at deploy without WeChat Pay parameters). Stripe's path is all there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGE_DECLARATIONS, TEST_STAGE } from '../stacks/stages.ts';
import { actionsOf, asArray, type CfnValue, StageCfn, text } from './cfn.ts';
import { synthesize } from './synth.ts';

const STAGE = 'stripeonly';
let cfn: StageCfn;
beforeAll(async () => {
  STAGE_DECLARATIONS[STAGE] = { ...TEST_STAGE, providers: ['stripe'] };
  cfn = new StageCfn(await synthesize(STAGE));
}, 900_000);
afterAll(() => {
  delete STAGE_DECLARATIONS[STAGE];
});

const handlers = () =>
  cfn.all('AWS::Lambda::Function').map((f) => String(f.resource.Properties.Handler ?? ''));

describe('a Stripe-only stage', () => {
  it('has the Stripe functions and none of WeChat Pay', () => {
    const entries = handlers()
      .filter((h) => h.startsWith('packages/functions/src/'))
      .map((h) => h.slice('packages/functions/src/'.length, -'.handler'.length));
    expect(entries).toEqual(
      expect.arrayContaining(['stripe-webhook', 'consumer', 'recon-stripe', 'operations']),
    );
    expect(entries.filter((e) => e.includes('wechatpay'))).toEqual([]);
  });

  it('routes no WeChat Pay webhook and outputs no WeChat Pay URL', () => {
    const routes = cfn
      .in('Api', 'AWS::ApiGatewayV2::Route')
      .map((r) => String(r.resource.Properties.RouteKey));
    expect(routes).toEqual(
      expect.arrayContaining(['POST /webhooks/stripe', 'POST /webhooks/stripe/{account}']),
    );
    expect(routes.filter((r) => r.includes('wechatpay'))).toEqual([]);
    expect(Object.keys(cfn.templates.Api.Outputs ?? {}).filter((o) => /wechat/i.test(o))).toEqual([]);
  });

  it('grants no function a WeChat Pay merchant parameter, and gives none the parameters path', () => {
    const ssm = cfn
      .allStatements()
      .filter(({ statement }) => actionsOf(statement).some((a) => a.startsWith('ssm:')))
      .filter(({ statement }) => text(statement.Resource).includes('wechatpay'));
    expect(ssm).toEqual([]);
    for (const fn of cfn.all('AWS::Lambda::Function')) {
      const env = fn.resource.Properties.Environment?.Variables ?? {};
      expect(Object.keys(env), fn.id).not.toContain('WECHATPAY_PARAMETERS');
    }
  });

  it('schedules and alarms nothing of WeChat Pay', () => {
    const rules = cfn
      .all('AWS::Events::Rule')
      .map((r) => `${r.id} ${text(r.resource.Properties.Description)}`);
    expect(rules.filter((r) => /wechatpay/i.test(r))).toEqual([]);
    const alarms = cfn.all('AWS::CloudWatch::Alarm').map((a) => {
      const p = a.resource.Properties;
      const dims = asArray<CfnValue>(p.Dimensions).map((d) => text(d.Value));
      return `${a.id} ${dims.join(' ')}`;
    });
    expect(alarms.filter((a) => /wechatpay/i.test(a))).toEqual([]);
    expect(
      alarms.some((a) => a.startsWith('StageRefusedstripewebhook') || a.includes('stripe-webhook')),
    ).toBe(true);
  });

  it('tells its preflight and operations function the stage takes Stripe only', () => {
    expect(cfn.env('preflight').PAYHOOKS_PROVIDERS).toBe('stripe');
    expect(cfn.env('operations').PAYHOOKS_PROVIDERS).toBe('stripe');
  });

  it("lets its operations function put claim-check objects under Stripe's prefix only", () => {
    const claimCheck = cfn
      .statements('operations')
      .filter((s) => s.Effect === 'Allow' && text(s.Resource).includes('ClaimCheckBucket'));
    expect(claimCheck.flatMap(actionsOf)).toEqual(['s3:PutObject']);
    const resources = asArray<CfnValue>(claimCheck[0]!.Resource).map(text);
    expect(resources).toHaveLength(1);
    expect(resources[0]).toContain('"/claim-check/stripe/*"');
  });
});
