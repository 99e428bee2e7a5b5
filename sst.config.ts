// SST v2 app: one stack set per stage (`npx sst deploy --stage <name>`); see docs/deploy.md.
import type { SSTConfig } from 'sst';
import type { App } from 'sst/constructs';
import { Alerts } from './stacks/Alerts.ts';
import { Api } from './stacks/Api.ts';
import { Database } from './stacks/Database.ts';
import { FUNCTION_DEFAULTS } from './stacks/functions.ts';
import { Migrations } from './stacks/Migrations.ts';
import { Monitoring } from './stacks/Monitoring.ts';
import { Network } from './stacks/Network.ts';
import { waiveSharedFindings } from './stacks/nag.ts';
import { Operations } from './stacks/Operations.ts';
import { Queue } from './stacks/Queue.ts';
import { Reconciliation } from './stacks/Reconciliation.ts';
import { Secrets } from './stacks/Secrets.ts';
import { stageSettings } from './stacks/stage.ts';

export const APP_NAME = 'payhooks';
export const DEFAULT_REGION = 'ap-southeast-1';

export function stacks(app: App): void {
  const settings = stageSettings(app.stage);
  // Non-prod stages are fully removable; prod retains what `stageSettings().removal` names, resource by resource
  // (a default of "retain" would also keep roles and functions around after `sst remove`).
  if (!settings.isProd) app.setDefaultRemovalPolicy('destroy');
  app.setDefaultFunctionProps(FUNCTION_DEFAULTS);
  app
    .stack(Network)
    .stack(Secrets)
    .stack(Alerts)
    .stack(Database)
    .stack(Migrations)
    .stack(Queue)
    .stack(Reconciliation)
    .stack(Api)
    .stack(Monitoring)
    .stack(Operations);
  waiveSharedFindings(app);
}

export default {
  config(input) {
    return { name: APP_NAME, region: input.region ?? DEFAULT_REGION };
  },
  stacks,
} satisfies SSTConfig;
