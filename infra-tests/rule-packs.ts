// The rule packs auditors use (issue 12): cdk-nag's AwsSolutions and PCI DSS 3.2.1. They visit resources as
// Aspects at synthesis and only add annotations, so every synthesis of the infra tests carries them.
import { Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks, PCIDSS321Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** Attached before `finish()`, like sst.config would. */
export function attachRulePacks(app: IConstruct): void {
  Aspects.of(app).add(new AwsSolutionsChecks());
  Aspects.of(app).add(new PCIDSS321Checks());
}
