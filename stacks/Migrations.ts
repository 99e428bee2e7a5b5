// Migrations on every deploy: an SST Script runs the migrate function (the same ley migrations as `npm start`)
// after the database stack and before the stacks whose code depends on the new schema. A failing migration
// fails the deploy.
import { Script, type StackContext, use } from 'sst/constructs';
import { Database } from './Database.ts';
import { payhooksFunction } from './functions.ts';
import { Network } from './Network.ts';

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
  return { migrate, script };
}
