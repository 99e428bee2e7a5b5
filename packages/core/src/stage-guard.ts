// The stage guard: which keys and material a stage may run with. One pure rule, shared by the deploy-time
// preflight (stacks' Preflight script), every function's cold start and `payhooks doctor`, so the three can never
// disagree. A live Stripe key on a test stage would book real money as test traffic is replayed; a test key on a
// live stage silently reconciles nothing; missing or malformed material fails later, on a provider's callback.
// Findings name the secret and the kind of key, never a value.
import { PayhooksError } from './errors.ts';

/** Declared in stacks/stages.ts; the stacks give every function PAYHOOKS_STAGE_MODE. */
export type StageMode = 'live' | 'test';

export const STAGE_MODE_VARIABLE = 'PAYHOOKS_STAGE_MODE';

export type StripeKeyMode = 'live' | 'test';

/** Stripe secret and restricted keys carry their mode in the prefix: sk_live_, rk_live_, sk_test_, rk_test_. */
const STRIPE_KEY = /^(sk|rk)_(live|test)_/;

/** The mode of a Stripe secret or restricted key, or undefined when the value is not one. */
export function stripeKeyMode(value: string): StripeKeyMode | undefined {
  const match = STRIPE_KEY.exec(value.trim());
  return match ? (match[2] as StripeKeyMode) : undefined;
}

/** The prefix shown in findings (`rk_live_…`): enough to act on, nothing of the key itself. */
function keyPrefix(value: string): string {
  const match = STRIPE_KEY.exec(value.trim());
  return match ? `${match[0]}…` : '(not a Stripe key)';
}

export type StageFindingCode =
  | 'STAGE_MODE_INVALID'
  | 'STRIPE_LIVE_KEY_ON_TEST_STAGE'
  | 'STRIPE_TEST_KEY_ON_LIVE_STAGE'
  | 'STRIPE_API_KEY_NOT_A_SECRET_KEY'
  | 'STRIPE_LIVEMODE_DISAGREES'
  | 'SECRET_MISSING'
  | 'MERCHANTS_INVALID';

export interface StageFinding {
  readonly code: StageFindingCode;
  /** One line naming the stage, the secret or variable and what to do; never a secret value. */
  readonly message: string;
}

/** The outcome of validating merchant material (the caller parses it with the provider's own parser). */
export type MerchantsCheck = { readonly valid: true } | { readonly valid: false; readonly reason: string };

export interface StageFacts {
  readonly stage: string;
  /** The declared mode, as text: a value other than live/test is itself a finding. */
  readonly mode: string;
  /** Secrets this deployment binds, by name: the value, or undefined when it is not set. */
  readonly secrets?: Readonly<Record<string, string | undefined>>;
  /** The consumer's STRIPE_LIVEMODE, when the caller runs with one. */
  readonly stripeLivemode?: string | undefined;
  /** WeChat Pay merchant material, when the caller reads some. */
  readonly merchants?: MerchantsCheck;
}

/** Secrets whose values are Stripe API keys: they must be sk_/rk_ keys of the stage's mode. */
export const STRIPE_API_KEY_SECRETS = new Set(['STRIPE_API_KEY']);

export function isStageMode(value: string | undefined): value is StageMode {
  return value === 'live' || value === 'test';
}

/** Every reason the stage must not run with these facts; empty when it may. */
export function checkStage(facts: StageFacts): StageFinding[] {
  const { stage, mode } = facts;
  const findings: StageFinding[] = [];
  if (!isStageMode(mode)) {
    return [
      {
        code: 'STAGE_MODE_INVALID',
        message: `stage "${stage}": ${STAGE_MODE_VARIABLE} must be live or test (declared in stacks/stages.ts)`,
      },
    ];
  }
  for (const [name, value] of Object.entries(facts.secrets ?? {})) {
    if (value === undefined || value.trim() === '') {
      findings.push({
        code: 'SECRET_MISSING',
        message: `stage "${stage}": secret ${name} is not set (npx sst secrets set ${name} … --stage ${stage})`,
      });
      continue;
    }
    // Any Stripe key in any secret counts (a key pasted into the wrong secret is still a key of some mode).
    for (const part of value.split(',')) {
      const keyMode = stripeKeyMode(part);
      if (keyMode === undefined || keyMode === mode) continue;
      findings.push(
        keyMode === 'live'
          ? {
              code: 'STRIPE_LIVE_KEY_ON_TEST_STAGE',
              message: `stage "${stage}" is a test stage but secret ${name} holds a live Stripe key (${keyPrefix(part)}); set a test key, or declare the stage live in stacks/stages.ts`,
            }
          : {
              code: 'STRIPE_TEST_KEY_ON_LIVE_STAGE',
              message: `stage "${stage}" is a live stage but secret ${name} holds a test Stripe key (${keyPrefix(part)}); set the live key`,
            },
      );
    }
    if (STRIPE_API_KEY_SECRETS.has(name) && stripeKeyMode(value) === undefined) {
      findings.push({
        code: 'STRIPE_API_KEY_NOT_A_SECRET_KEY',
        message: `stage "${stage}": secret ${name} is not a Stripe secret or restricted key (sk_${mode}_… or rk_${mode}_…)`,
      });
    }
  }
  if (facts.stripeLivemode !== undefined) {
    const expected = mode === 'live' ? 'true' : 'false';
    if (facts.stripeLivemode !== expected) {
      findings.push({
        code: 'STRIPE_LIVEMODE_DISAGREES',
        message: `stage "${stage}" is declared ${mode} but STRIPE_LIVEMODE is "${facts.stripeLivemode}" (expected ${expected}; the stacks derive it from the mode)`,
      });
    }
  }
  if (facts.merchants && !facts.merchants.valid) {
    findings.push({
      code: 'MERCHANTS_INVALID',
      message: `stage "${stage}": WeChat Pay merchant material does not validate: ${facts.merchants.reason}`,
    });
  }
  return findings;
}

/** The stage must not run: thrown at deploy (preflight) and at cold start. */
export class StageRefusedError extends PayhooksError {
  readonly findings: readonly StageFinding[];
  constructor(findings: readonly StageFinding[]) {
    super(
      'STAGE_REFUSED',
      `refusing to run: ${findings.map((finding) => `${finding.code}: ${finding.message}`).join('; ')}`,
    );
    this.findings = findings;
  }
}

/** Throws StageRefusedError with every finding, or returns when the stage may run. */
export function assertStage(facts: StageFacts): void {
  const findings = checkStage(facts);
  if (findings.length > 0) throw new StageRefusedError(findings);
}
