// The claim-check bucket (issue 12, "Messages of any size"): private, SSE, TLS only, objects expiring after the
// main queue's retention plus the DLQ's (the backstop: the consumer removes objects after apply); every producer
// (webhooks, sweep, revalidation, consistency samplers, operations for backfill) may only put under its own
// providers' prefixes, the consumer may get and delete under claim-check/ and list the bucket, and no other
// function can touch it.
import { beforeAll, describe, expect, it } from 'vitest';
import { claimCheckExpiryDays, DEAD_LETTER_RETENTION_DAYS } from '../stacks/claim-check.ts';
import { stageSettings } from '../stacks/stage.ts';
import { actionsOf, asArray, type CfnValue, StageCfn, type Statement, text } from './cfn.ts';
import { synthesize } from './synth.ts';

const STAGES = ['dev', 'prod'] as const;
const built = {} as Record<(typeof STAGES)[number], StageCfn>;
beforeAll(async () => {
  for (const stage of STAGES) built[stage] = new StageCfn(await synthesize(stage));
}, 900_000);

const allowed = (statements: Statement[]) => statements.filter((s) => s.Effect === 'Allow');

describe.each(STAGES)('%s stage', (stage) => {
  const cfn = () => built[stage];
  const bucket = () => {
    const found = cfn()
      .in('Queue', 'AWS::S3::Bucket')
      .filter((b) => b.id.startsWith('ClaimCheckBucket'));
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  /** Statements (by function) that name the claim-check bucket. */
  const onBucket = (entry: string) =>
    allowed(cfn().statements(entry)).filter((s) => text(s.Resource).includes('ClaimCheckBucket'));

  it('is private, encrypted, TLS only, and expires objects after queue + DLQ retention', () => {
    const p = bucket().resource.Properties;
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'AES256',
    });
    const days = stageSettings(stage).queue.retentionDays + DEAD_LETTER_RETENTION_DAYS;
    expect(claimCheckExpiryDays(stageSettings(stage))).toBe(days);
    const rule = asArray<CfnValue>(p.LifecycleConfiguration.Rules).find((r) => r.Id === 'claim-check-expiry');
    expect(rule).toMatchObject({ Status: 'Enabled', Prefix: 'claim-check/', ExpirationInDays: days });
    // The DLQ's retention in the stacks is the one this expiry counts on.
    const dlq = cfn()
      .in('Queue', 'AWS::SQS::Queue')
      .find((q) => q.id.startsWith('DeadLetterQueue'))!;
    expect(dlq.resource.Properties.MessageRetentionPeriod).toBe(DEAD_LETTER_RETENTION_DAYS * 86_400);
    const policy = cfn()
      .in('Queue', 'AWS::S3::BucketPolicy')
      .find((b) => text(b.resource.Properties.Bucket).includes(bucket().id))!;
    const deny = asArray<Statement>(policy.resource.Properties.PolicyDocument.Statement).find(
      (s) => s.Effect === 'Deny' && text(s.Condition).includes('aws:SecureTransport'),
    );
    expect(deny).toBeDefined();
  });

  /** The `claim-check/…` suffixes of a statement's object resources, e.g. `claim-check/stripe/*`. */
  const prefixesOf = (statement: Statement) =>
    asArray<CfnValue>(statement.Resource)
      .map((resource) => /"\/(claim-check\/[^"]*)"/.exec(text(resource))?.[1])
      .sort();

  it.each([
    ['stripe-webhook', ['stripe']],
    ['wechatpay-webhook', ['wechatpay']],
    ['sweep-wechatpay', ['wechatpay']],
    ['revalidate-stripe', ['stripe']],
    ['consistency-stripe', ['stripe']],
    ['consistency-wechatpay', ['wechatpay']],
    ['operations', ['stripe', 'wechatpay']],
  ] as const)('%s may only put objects, under claim-check/%s/', (entry, providers) => {
    const statements = onBucket(entry);
    expect(statements.flatMap(actionsOf)).toEqual(['s3:PutObject']);
    expect(prefixesOf(statements[0]!)).toEqual(providers.map((p) => `claim-check/${p}/*`));
    // The bucket lives in the Queue stack: functions of other stacks see it through an import.
    const fn = cfn().fn(entry);
    expect(cfn().resolve(fn.stack, cfn().env(entry).CLAIM_CHECK_BUCKET)?.id).toMatch(/^ClaimCheckBucket/);
  });

  it('the consumer may get and delete claim-check objects and list the bucket, nothing else', () => {
    const statements = onBucket('consumer');
    const objects = statements.find((s) => actionsOf(s).includes('s3:GetObject'))!;
    expect(actionsOf(objects).sort()).toEqual(['s3:DeleteObject', 's3:GetObject']);
    expect(prefixesOf(objects)).toEqual(['claim-check/*']);
    const list = statements.filter((s) => s !== objects);
    expect(list.flatMap(actionsOf)).toEqual(['s3:ListBucket']);
    // The bucket itself (a missing key then reads as 404, CLAIM_CHECK_MISSING), not its objects.
    expect(text(list[0]!.Resource)).toMatch(/ClaimCheckBucket[0-9A-F]+","Arn"/);
    expect(text(list[0]!.Resource)).not.toContain('/');
    expect(statements.flatMap(actionsOf)).not.toContain('s3:PutObject');
  });

  it('no other role in the stage is granted anything on the bucket', () => {
    const roles = cfn()
      .all('AWS::IAM::Policy')
      .filter((p) =>
        asArray<Statement>(p.resource.Properties.PolicyDocument.Statement).some(
          (st) => st.Effect === 'Allow' && text(st.Resource).includes('ClaimCheckBucket'),
        ),
      )
      .flatMap((p) => asArray<CfnValue>(p.resource.Properties.Roles).map((r) => `${p.stack}/${r.Ref}`));
    const expected = [
      'stripe-webhook',
      'wechatpay-webhook',
      'consumer',
      'sweep-wechatpay',
      'revalidate-stripe',
      'consistency-stripe',
      'consistency-wechatpay',
      'operations',
    ].map((entry) => {
      const role = cfn().role(entry);
      return `${role.stack}/${role.id}`;
    });
    expect(roles.sort()).toEqual(expected.sort());
  });
});
