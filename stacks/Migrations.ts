// Migrations on every deploy: an SST Script runs the migrate function (the same ley migrations as `npm start`)
// after the database stack and before the stacks whose code depends on the new schema. A failing migration
// fails the deploy.
import { Script, type StackContext, use } from 'sst/constructs';
import { Database } from './Database.ts';
import { payhooksFunction } from './functions.ts';
import { Network } from './Network.ts';
import { resourceMatching, waive } from './nag.ts';

/** Where copyFiles puts packages/core/migrations inside the bundle (Lambda unpacks the bundle to /var/task). */
export const MIGRATIONS_BUNDLE_PATH = 'migrations';
export const MIGRATIONS_DIR = `/var/task/${MIGRATIONS_BUNDLE_PATH}`;

export function Migrations({ stack }: StackContext) {
  const { vpc, functionSubnets, functionsSecurityGroup } = use(Network);
  const { connect } = use(Database);

  const migrate = payhooksFunction(stack, 'Migrate', {
    entry: 'migrate',
    description: 'Applies packages/core/migrations through the RDS Proxy',
    timeoutSeconds: 600,
    memorySize: 512,
    enableLiveDev: false,
    vpc,
    vpcSubnets: functionSubnets,
    securityGroups: [functionsSecurityGroup],
    copyFiles: [{ from: 'packages/core/migrations', to: MIGRATIONS_BUNDLE_PATH }],
    environment: { MIGRATIONS_DIR },
  });
  connect(migrate, 'owner');

  const script = new Script(stack, 'MigrateOnDeploy', {
    onCreate: migrate,
    onUpdate: migrate,
    params: { migrationsDir: MIGRATIONS_DIR },
  });
  // SST's Script: a deploy-time Lambda that invokes Migrate (which is in the VPC and talks to the database).
  waive(script, [
    {
      id: 'AwsSolutions-L1',
      reason: "SST's Script handler keeps SST's pinned runtime; it moves with SST upgrades.",
    },
    {
      id: 'PCI.DSS.321-LambdaInsideVPC',
      reason: 'Only invokes Migrate through the Lambda API; touches no data.',
    },
    {
      id: 'AwsSolutions-IAM4',
      reason: 'AWS-maintained basic execution policy (CloudWatch Logs writes only).',
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'lambda:InvokeFunction on Migrate and its versions/aliases (<arn>:*), nothing else.',
      appliesTo: [resourceMatching('<Migrate[0-9A-F]+\\.Arn>:\\*')],
    },
    { id: 'PCI.DSS.321-IAMNoInlinePolicy', reason: 'SST-generated role policy: invoke Migrate only.' },
  ]);
  return { migrate, script };
}
