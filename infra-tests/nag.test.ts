// The rule packs auditors use (issue 12): cdk-nag's AwsSolutions and PCI DSS 3.2.1 packs over both stages.
// Every finding is fixed in the stacks or waived next to its resource with a written reason (stacks/nag.ts); a
// new unwaived finding is an error annotation and fails here, printed as resource path, rule id and message.
import { App as CdkApp, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ArtifactMetadataEntryType } from 'aws-cdk-lib/cloud-assembly-schema';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { attachRulePacks } from './rule-packs.ts';
import { synthesize } from './synth.ts';

const STAGES = ['dev', 'prod'] as const;

/** `path: [rule id] message` of every error annotation under `root` (unwaived cdk-nag findings are errors). */
function errorsUnder(root: IConstruct): string[] {
  return root.node
    .findAll()
    .flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === ArtifactMetadataEntryType.ERROR)
        .map((entry) => `${construct.node.path}: ${String(entry.data)}`),
    );
}

const findings: Record<string, string[]> = {};

beforeAll(async () => {
  for (const stage of STAGES) {
    // The shared synthesis of the stage, which every infra file uses, carries the rule packs (synth.ts).
    const { app } = await synthesize(stage);
    findings[stage] = errorsUnder(app);
  }
}, 600_000);

describe.each(STAGES)('cdk-nag AwsSolutions + PCI DSS 3.2.1 on stage %s', (stage) => {
  it('has no unwaived finding', () => {
    const report = findings[stage] ?? [];
    expect(
      report,
      `unwaived cdk-nag findings (fix, or waive next to the resource):\n${report.join('\n')}`,
    ).toEqual([]);
  });
});

describe('the rule-pack check itself', () => {
  it('reports an unwaived finding as an error naming rule and resource', () => {
    // A queue that accepts plain HTTP and has no DLQ: the same attachment and collection must flag it.
    const app = new CdkApp();
    const stack = new Stack(app, 'Probe', { env: { account: '123456789012', region: 'ap-southeast-1' } });
    new sqs.Queue(stack, 'Careless');
    attachRulePacks(app);
    app.synth();
    const report = errorsUnder(app);
    expect(report.some((line) => line.startsWith('Probe/Careless/Resource: AwsSolutions-SQS4'))).toBe(true);
    expect(report.some((line) => line.startsWith('Probe/Careless/Resource: AwsSolutions-SQS3'))).toBe(true);
  });
});
