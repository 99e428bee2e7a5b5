// Synthesizes the whole SST app for one stage, offline (see ../shared sst-v2 notes): account and region are
// given so nothing calls STS, NODE_ENV=test skips the bootstrap lookup, and the AZ context comes from
// cdk.context.json. Bundling of every function happens in app.finish().
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import { App, getStack, type Stack } from 'sst/constructs';
import { initProject, useProject } from 'sst/project.js';
import { APP_NAME, DEFAULT_REGION, stacks } from '../sst.config.ts';
import { Alerts } from '../stacks/Alerts.ts';
import { Api } from '../stacks/Api.ts';
import { ConsoleAuth } from '../stacks/ConsoleAuth.ts';
import { Database } from '../stacks/Database.ts';
import { Migrations } from '../stacks/Migrations.ts';
import { Monitoring } from '../stacks/Monitoring.ts';
import { Network } from '../stacks/Network.ts';
import { Operations } from '../stacks/Operations.ts';
import { Preflight } from '../stacks/Preflight.ts';
import { Queue } from '../stacks/Queue.ts';
import { Reconciliation } from '../stacks/Reconciliation.ts';
import { Secrets } from '../stacks/Secrets.ts';
import { attachRulePacks } from './rule-packs.ts';

export const ACCOUNT = '123456789012';
export const REGION = DEFAULT_REGION;
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

const STACKS = {
  Network,
  Secrets,
  Preflight,
  Alerts,
  Database,
  Migrations,
  Queue,
  Reconciliation,
  ConsoleAuth,
  Api,
  Monitoring,
  Operations,
} as const;
export type StackName = keyof typeof STACKS;

export interface SynthesizedStage {
  readonly stage: string;
  readonly app: App;
  readonly stacks: Record<StackName, Stack>;
  readonly templates: Record<StackName, Template>;
  /** Where SST put each function's bundle, by construct address. */
  readonly artifactsDir: string;
}

/**
 * Synthesis of a stage takes minutes: every infra file asking for the same stage shares one (the infra project
 * runs its files in one process without isolation, vitest.config.ts). The rule packs ride along on every
 * synthesis (their Aspects only add annotations), so nag.test.ts needs no synthesis of its own.
 */
const synthesized = new Map<string, Promise<SynthesizedStage>>();

export function synthesize(stage: string): Promise<SynthesizedStage> {
  let done = synthesized.get(stage);
  if (!done) {
    done = synthesizeNow(stage);
    synthesized.set(stage, done);
  }
  return done;
}

async function synthesizeNow(stage: string): Promise<SynthesizedStage> {
  await initProject({ stage, root: ROOT, region: REGION });
  const context = JSON.parse(readFileSync(new URL('../cdk.context.json', import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
  const app = new App(
    { mode: 'deploy', stage, name: APP_NAME, region: REGION, account: ACCOUNT },
    { context },
  );
  stacks(app);
  // getStack() reads the module-global current app: capture before another stage is built.
  const built = Object.fromEntries(
    Object.entries(STACKS).map(([name, fn]) => [name, getStack(fn)]),
  ) as Record<StackName, Stack>;
  attachRulePacks(app);
  await app.finish();
  const templates = Object.fromEntries(
    Object.entries(built).map(([name, stack]) => [name, Template.fromStack(stack)]),
  ) as Record<StackName, Template>;
  return { stage, app, stacks: built, templates, artifactsDir: useProject().paths.artifacts };
}
