// Database: Aurora PostgreSQL Serverless v2 in isolated subnets, master credentials generated into Secrets
// Manager, and an RDS Proxy that requires TLS and IAM authentication. Functions never see a password: they sign
// a short-lived IAM token (@aws-sdk/rds-signer) for DB_USER against the proxy endpoint.
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { dependsOn, type Function as SstFunction, type StackContext, use } from 'sst/constructs';
import { Network } from './Network.ts';
import { waive } from './nag.ts';
import { Preflight } from './Preflight.ts';
import { stageSettings } from './stage.ts';

export const DB_NAME = 'payhooks';
/** The cluster's master user: owns the schema and runs the migrations (the migration owner). */
export const DB_USER = 'payhooks';
/**
 * Database roles by job (migration 0006; docs/decisions.md "Database roles"). The proxy authenticates each
 * function by IAM as its role and logs in to Postgres with that role's secret.
 */
export const DB_ROLES = {
  owner: DB_USER,
  app: 'payhooks_app',
  readonly: 'payhooks_readonly',
  // The console API (migration 0018-consoleaws-console-role): reads, break actions and their audit rows.
  console: 'payhooks_console',
} as const;
export type DbRole = keyof typeof DB_ROLES;
export const DB_PORT = 5432;

export function Database({ stack, app }: StackContext) {
  // A stage whose keys do not match its declared mode is refused before the database changes (stacks/Preflight.ts).
  dependsOn(Preflight);
  const settings = stageSettings(app.stage);
  const { vpc, databaseSubnets, functionsSecurityGroup } = use(Network);

  const clusterSecurityGroup = new ec2.SecurityGroup(stack, 'ClusterSecurityGroup', {
    vpc,
    description: 'Aurora cluster: reachable from the RDS Proxy only',
    allowAllOutbound: false,
  });
  const proxySecurityGroup = new ec2.SecurityGroup(stack, 'ProxySecurityGroup', {
    vpc,
    description: 'RDS Proxy: reachable from the in-VPC functions only',
    allowAllOutbound: false,
  });

  // Generated into Secrets Manager; only the RDS Proxy reads it. It must outlive a retained cluster, or
  // nobody could log in to that cluster again.
  const masterSecret = new rds.DatabaseSecret(stack, 'MasterSecret', {
    username: DB_USER,
    secretName: `payhooks/${app.stage}/database/master`,
  });
  masterSecret.applyRemovalPolicy(settings.removal);

  const cluster = new rds.DatabaseCluster(stack, 'Cluster', {
    engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_6 }),
    credentials: rds.Credentials.fromSecret(masterSecret),
    defaultDatabaseName: DB_NAME,
    writer: rds.ClusterInstance.serverlessV2('Writer', { autoMinorVersionUpgrade: true }),
    readers: Array.from({ length: settings.database.readers }, (_, i) =>
      rds.ClusterInstance.serverlessV2(`Reader${i + 1}`, { scaleWithWriter: true }),
    ),
    serverlessV2MinCapacity: settings.database.minAcu,
    serverlessV2MaxCapacity: settings.database.maxAcu,
    vpc,
    vpcSubnets: databaseSubnets,
    securityGroups: [clusterSecurityGroup],
    storageEncrypted: true,
    iamAuthentication: true,
    backup: {
      retention: Duration.days(settings.database.backupRetentionDays),
      preferredWindow: '18:00-19:00',
    },
    deletionProtection: settings.database.deletionProtection,
    removalPolicy: settings.removal,
    copyTagsToSnapshot: true,
    cloudwatchLogsExports: ['postgresql'],
    cloudwatchLogsRetention: settings.logRetention,
  });

  // One generated secret per login role ({username, password}, the form the proxy reads). The migrate function
  // alone reads them and sets each role's password to its value on every deploy.
  const ROLE_SECRET_IDS = {
    app: 'AppRoleSecret',
    readonly: 'ReadonlyRoleSecret',
    console: 'ConsoleRoleSecret',
  };
  const roleSecrets = (['app', 'readonly', 'console'] as const).map((role) => {
    const secret = new rds.DatabaseSecret(stack, ROLE_SECRET_IDS[role], {
      username: DB_ROLES[role],
      secretName: `payhooks/${app.stage}/database/${role}`,
    });
    secret.applyRemovalPolicy(settings.removal);
    return secret;
  });

  const proxy = new rds.DatabaseProxy(stack, 'Proxy', {
    proxyTarget: rds.ProxyTarget.fromCluster(cluster),
    // Proxy names are unique per account and region: one per stage.
    dbProxyName: `payhooks-${app.stage}`,
    secrets: [cluster.secret!, ...roleSecrets],
    vpc,
    vpcSubnets: databaseSubnets,
    securityGroups: [proxySecurityGroup],
    iamAuth: true,
    requireTLS: true,
    maxConnectionsPercent: 90,
    idleClientTimeout: Duration.minutes(30),
    debugLogging: false,
  });

  // Proxy → cluster rules are added by the proxy target itself; functions → proxy is ours.
  proxySecurityGroup.addIngressRule(functionsSecurityGroup, ec2.Port.tcp(DB_PORT), 'Postgres from functions');

  /**
   * Lets an in-VPC function connect through the proxy as `role`: the connection env contract and `rds-db:connect`
   * on this proxy's `dbuser:<proxy id>/<role's user>` ARN, nothing else. The owner (migrate) also reads the other
   * roles' secrets, to set their passwords.
   */
  function connect(fn: SstFunction, role: DbRole): void {
    const user = DB_ROLES[role];
    fn.addEnvironment('DB_HOST', proxy.endpoint);
    fn.addEnvironment('DB_PORT', String(DB_PORT));
    fn.addEnvironment('DB_NAME', DB_NAME);
    fn.addEnvironment('DB_USER', user);
    fn.addEnvironment('DB_MAX_CONNECTIONS', '1');
    proxy.grantConnect(fn, user);
    if (role === 'owner') {
      fn.addEnvironment('DB_ROLE_SECRET_ARNS', roleSecrets.map((secret) => secret.secretArn).join(','));
      for (const secret of roleSecrets) secret.grantRead(fn);
    }
  }

  waive(masterSecret, [
    {
      id: 'AwsSolutions-SMG4',
      reason:
        'Only the RDS Proxy and migrations log in with this password; functions authenticate to the proxy by IAM ' +
        'and never read it. Scheduled rotation needs an in-VPC rotation function: a follow-up (docs/decisions.md).',
    },
    {
      id: 'PCI.DSS.321-SecretsManagerUsingKMSKey',
      reason:
        'Encrypted with the account AWS-managed Secrets Manager key; who may read it is decided by IAM.',
    },
  ]);
  for (const secret of roleSecrets) {
    waive(secret, [
      {
        id: 'AwsSolutions-SMG4',
        reason:
          "A login role's password: only the RDS Proxy and the migrate function (which sets it on every deploy) " +
          'read it; functions authenticate to the proxy by IAM. Rotation means changing the secret and deploying.',
      },
      {
        id: 'PCI.DSS.321-SecretsManagerUsingKMSKey',
        reason:
          'Encrypted with the account AWS-managed Secrets Manager key; who may read it is decided by IAM.',
      },
    ]);
  }
  if (!settings.database.deletionProtection) {
    waive(cluster, [
      {
        id: 'AwsSolutions-RDS10',
        reason:
          'Test stage (stage.ts): removable by declaration, so no deletion protection; live stages have it.',
      },
    ]);
  }
  waive(proxy, [
    {
      id: 'PCI.DSS.321-IAMNoInlinePolicy',
      reason: "CDK's proxy role: one inline policy reading this cluster's secret only.",
    },
  ]);

  stack.addOutputs({ ProxyEndpoint: proxy.endpoint, ClusterIdentifier: cluster.clusterIdentifier });
  return { cluster, proxy, connect, roleSecrets };
}
