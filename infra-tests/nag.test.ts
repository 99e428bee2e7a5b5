// The rule packs auditors use (issue 12): cdk-nag's AwsSolutions and PCI DSS 3.2.1 packs over both stages.
// Every finding is fixed in the stacks or suppressed next to its resource with a written reason; a new
// unsuppressed finding is an error annotation and fails here, printed as rule id, resource path and message.

import { Aspects } from 'aws-cdk-lib';
import { ArtifactMetadataEntryType } from 'aws-cdk-lib/cloud-assembly-schema';
import { AwsSolutionsChecks, PCIDSS321Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize } from './synth.ts';

const STAGES = ['dev', 'prod'] as const;

interface Finding {
  readonly path: string;
  readonly message: string;
}

function errorsUnder(root: IConstruct): Finding[] {
  return root.node
    .findAll()
    .flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === ArtifactMetadataEntryType.ERROR)
        .map((entry) => ({ path: construct.node.path, message: String(entry.data) })),
    );
}

const findings: Record<string, Finding[]> = {};

beforeAll(async () => {
  for (const stage of STAGES) {
    const { app } = await synthesize(stage, {
      beforeFinish: (sstApp) => {
        Aspects.of(sstApp).add(new AwsSolutionsChecks());
        Aspects.of(sstApp).add(new PCIDSS321Checks());
      },
    });
    findings[stage] = errorsUnder(app);
  }
  // Two full syntheses with both packs visiting every resource: minutes on a loaded 2-core machine.
}, 600_000);

describe.each(STAGES)('cdk-nag AwsSolutions + PCI DSS 3.2.1 on stage %s', (stage) => {
  it('has no unsuppressed finding', () => {
    const report = (findings[stage] ?? []).map((f) => `${f.path}: ${f.message}`);
    expect(report, report.join('\n')).toEqual([]);
  });
});
