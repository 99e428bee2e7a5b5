// SST v2 app: one stack set per stage (`npx sst deploy --stage <name>`); see docs/deploy.md.
import type { SSTConfig } from 'sst';
import type { App } from 'sst/constructs';
import { Alerts } from './stacks/Alerts.ts';
import { Api } from './stacks/Api.ts';
import { ConsoleAuth } from './stacks/ConsoleAuth.ts';
import { Database } from './stacks/Database.ts';
import { FUNCTION_DEFAULTS } from './stacks/functions.ts';
import { Migrations } from './stacks/Migrations.ts';
import { Monitoring } from './stacks/Monitoring.ts';
import { Network } from './stacks/Network.ts';
import { waiveSharedFindings } from './stacks/nag.ts';
import { Operations } from './stacks/Operations.ts';
import { Preflight } from './stacks/Preflight.ts';
import { Queue } from './stacks/Queue.ts';
import { Reconciliation } from './stacks/Reconciliation.ts';
import { Secrets } from './stacks/Secrets.ts';
import { stageSettings } from './stacks/stage.ts';
import { announceStage } from './stacks/stages-check.ts';

export const APP_NAME = 'payhooks';
export const DEFAULT_REGION = 'ap-southeast-1';

export function stacks(app: App): void {
  // Refuses a malformed declaration and prints what the stage is (declared live/test, or undeclared → test).
  announceStage(app.stage);
  const settings = stageSettings(app.stage);
  // Removable stages are fully removable; retained stages keep what `stageSettings().removal` names, resource by
  // resource (a default of "retain" would also keep roles and functions around after `sst remove`).
  if (!settings.retained) app.setDefaultRemovalPolicy('destroy');
  app.setDefaultFunctionProps(FUNCTION_DEFAULTS);
  app
    .stack(Network)
    .stack(Secrets)
    .stack(Preflight)
    .stack(Alerts)
    .stack(Database)
    .stack(Migrations)
    .stack(Queue)
    .stack(Reconciliation)
    .stack(ConsoleAuth)
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
