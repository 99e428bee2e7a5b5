// Stage declarations: what each stage is, in one place. A stage's behaviour follows from its declaration, never
// from its name: `prod` is live because it is declared live here, and `--stage production` behaves live as soon as
// it is declared live too. A stage that is not declared is a removable test stage (the deploy says so in one line).
// stacks/stage.ts turns a declaration into the settings every stack reads.

/** live: books live-mode Stripe events and must hold live keys; test: books test mode, holds test keys only. */
export type StageMode = 'live' | 'test';

/** Log retention choices (days), the values CloudWatch Logs accepts that we use. */
export type LogRetentionDays = 7 | 14 | 30 | 90 | 180 | 365 | 731 | 1827 | 2557 | 3653;

export interface Throttle {
  /** Steady-state requests per second. */
  readonly rate: number;
  readonly burst: number;
}

/** Sizes: database ACUs and readers, NAT, consumer concurrency (= consumer database connections). */
export interface StageCapacity {
  readonly database: { readonly minAcu: number; readonly maxAcu: number; readonly readers: number };
  readonly nat: { readonly kind: 'instance' | 'gateway'; readonly count: number };
  readonly consumerMaxConcurrency: number;
  /** Connections to Aurora above this alarm (the pool the capacity is sized for). */
  readonly databaseConnectionsAlarm: number;
}

/** The payment providers a stage can take. */
export type Provider = 'stripe' | 'wechatpay';

export const ALL_PROVIDERS: readonly Provider[] = ['stripe', 'wechatpay'];

export interface StageDeclaration {
  readonly mode: StageMode;
  /**
   * The providers this stage takes; absent: both. A Stripe-only stage (`providers: ['stripe']`) deploys no WeChat
   * Pay function, route, schedule or alarm, grants no merchant parameters, and its preflight checks none.
   */
  readonly providers?: readonly Provider[];
  /** retain: the database, its secrets, the reports bucket and log groups survive `sst remove`. */
  readonly removal: 'retain' | 'destroy';
  readonly deletionProtection: boolean;
  readonly backupRetentionDays: number;
  readonly logRetentionDays: LogRetentionDays;
  readonly capacity: StageCapacity;
  /**
   * Per-route throttling: the webhook routes (providers retry, so they get the headroom) apart from the reports
   * routes (people and the CLI) — a burst of report downloads never throttles a payment callback, and the
   * other way round.
   */
  readonly throttle: { readonly webhooks: Throttle; readonly reports: Throttle };
  /**
   * Stripe over Amazon EventBridge (docs/deploy.md "Stripe over EventBridge"): the partner event source Stripe
   * created in this account, `aws.partner/stripe.com/ed_…`. Absent: the stage takes Stripe by webhook only.
   */
  readonly stripeEventBridge?: { readonly eventSourceName: string };
}

export const CAPACITY = {
  small: {
    database: { minAcu: 0.5, maxAcu: 2, readers: 0 },
    nat: { kind: 'instance', count: 1 },
    consumerMaxConcurrency: 2,
    databaseConnectionsAlarm: 40,
  },
  large: {
    database: { minAcu: 1, maxAcu: 16, readers: 1 },
    nat: { kind: 'gateway', count: 2 },
    consumerMaxConcurrency: 10,
    databaseConnectionsAlarm: 100,
  },
} as const satisfies Record<string, StageCapacity>;

/** What a live stage is unless its declaration says otherwise. */
export const LIVE_STAGE: StageDeclaration = {
  mode: 'live',
  removal: 'retain',
  deletionProtection: true,
  backupRetentionDays: 35,
  logRetentionDays: 365,
  capacity: CAPACITY.large,
  throttle: { webhooks: { rate: 500, burst: 1000 }, reports: { rate: 20, burst: 40 } },
};

/** Every undeclared stage: cheap and fully removable, test keys only. */
export const TEST_STAGE: StageDeclaration = {
  mode: 'test',
  removal: 'destroy',
  deletionProtection: false,
  backupRetentionDays: 1,
  logRetentionDays: 7,
  capacity: CAPACITY.small,
  throttle: { webhooks: { rate: 20, burst: 50 }, reports: { rate: 5, burst: 10 } },
};

/**
 * The declared stages. Add a stage here to give it a mode other than an undeclared stage's (test, removable),
 * e.g. `production: LIVE_STAGE` or `staging: { ...TEST_STAGE, removal: 'retain' }`.
 */
export const STAGE_DECLARATIONS: Record<string, StageDeclaration> = {
  prod: LIVE_STAGE,
};

export interface ResolvedDeclaration {
  readonly declaration: StageDeclaration;
  /** false: the stage is not in STAGE_DECLARATIONS and got TEST_STAGE. */
  readonly declared: boolean;
}

export function declarationOf(
  stage: string,
  declarations: Readonly<Record<string, StageDeclaration>> = STAGE_DECLARATIONS,
): ResolvedDeclaration {
  const declaration = Object.hasOwn(declarations, stage) ? declarations[stage] : undefined;
  return declaration ? { declaration, declared: true } : { declaration: TEST_STAGE, declared: false };
}

/** Partner event sources Stripe creates: `aws.partner/stripe.com/<destination id>`. */
export const STRIPE_PARTNER_SOURCE_PREFIX = 'aws.partner/stripe.com';

/**
 * What synthesis can check of a declaration (secret values are not known until deploy: docs/deploy.md
 * "What is checked where"). Returns one line per problem, naming the stage and the field.
 */
export function declarationProblems(stage: string, declaration: StageDeclaration): string[] {
  const problems: string[] = [];
  const at = `stacks/stages.ts: stage "${stage}"`;
  if (declaration.mode !== 'live' && declaration.mode !== 'test')
    problems.push(`${at}: mode must be "live" or "test"`);
  if (!Number.isInteger(declaration.backupRetentionDays) || declaration.backupRetentionDays < 1)
    problems.push(`${at}: backupRetentionDays must be a whole number of days, at least 1`);
  if (declaration.backupRetentionDays > 35)
    problems.push(`${at}: backupRetentionDays is at most 35 (Aurora's limit)`);
  for (const [route, throttle] of Object.entries(declaration.throttle)) {
    if (!(throttle.rate > 0) || !(throttle.burst >= 1))
      problems.push(`${at}: throttle.${route} needs a rate above 0 and a burst of at least 1`);
  }
  const providers = declaration.providers ?? ALL_PROVIDERS;
  if (!providers.includes('stripe') || providers.some((p) => !ALL_PROVIDERS.includes(p)))
    problems.push(`${at}: providers must include "stripe" and may add "wechatpay" (absent: both)`);
  const source = declaration.stripeEventBridge?.eventSourceName;
  if (source !== undefined && !/^aws\.partner\/stripe\.com\/[A-Za-z0-9_.\-/]+$/.test(source)) {
    problems.push(
      `${at}: stripeEventBridge.eventSourceName must be the partner event source Stripe created ` +
        `(${STRIPE_PARTNER_SOURCE_PREFIX}/ed_…)`,
    );
  }
  return problems;
}

/** The line the deploy prints about the stage it is building. */
export function stageNotice(stage: string, resolved: ResolvedDeclaration): string {
  const { declaration, declared } = resolved;
  if (!declared) {
    return (
      `payhooks: stage "${stage}" is not declared in stacks/stages.ts: deploying it as a removable TEST stage ` +
      '(Stripe test mode, test keys only, deleted on sst remove)'
    );
  }
  return (
    `payhooks: stage "${stage}" is declared ${declaration.mode.toUpperCase()} in stacks/stages.ts ` +
    `(removal: ${declaration.removal}, deletion protection: ${declaration.deletionProtection ? 'on' : 'off'})`
  );
}
