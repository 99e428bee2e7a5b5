// The stage guard's rule: Stripe keys must match the stage's declared mode, bound secrets must be set, merchant
// material must validate, and no finding ever carries a secret value.
import { describe, expect, it } from 'vitest';
import { assertStage, checkStage, StageRefusedError, stripeKeyMode } from '../../src/stage-guard.ts';

// Built from parts so no scanner mistakes the fixtures for leaked keys; the tails are random per run.
const tail = () => Math.random().toString(36).slice(2).padEnd(24, 'x');
const key = (kind: 'sk' | 'rk', mode: 'live' | 'test') => `${kind}_${mode}_${tail()}`;

describe('stripeKeyMode', () => {
  it('reads the mode from secret and restricted keys, and nothing from other values', () => {
    expect(stripeKeyMode(key('sk', 'live'))).toBe('live');
    expect(stripeKeyMode(key('rk', 'live'))).toBe('live');
    expect(stripeKeyMode(key('sk', 'test'))).toBe('test');
    expect(stripeKeyMode(key('rk', 'test'))).toBe('test');
    expect(stripeKeyMode(`pk_live_${tail()}`)).toBeUndefined();
    expect(stripeKeyMode(`whsec_${tail()}`)).toBeUndefined();
    expect(stripeKeyMode('')).toBeUndefined();
  });
});

describe('checkStage', () => {
  it('accepts a live stage with live keys and a test stage with test keys', () => {
    for (const mode of ['live', 'test'] as const) {
      expect(
        checkStage({
          stage: 'any-name',
          mode,
          secrets: { STRIPE_API_KEY: key('rk', mode), STRIPE_WEBHOOK_SECRETS: `whsec_${tail()}` },
          stripeLivemode: mode === 'live' ? 'true' : 'false',
          merchants: { valid: true },
        }),
      ).toEqual([]);
    }
  });

  it.each([
    ['test', key('sk', 'live'), 'STRIPE_LIVE_KEY_ON_TEST_STAGE'],
    ['test', key('rk', 'live'), 'STRIPE_LIVE_KEY_ON_TEST_STAGE'],
    ['live', key('sk', 'test'), 'STRIPE_TEST_KEY_ON_LIVE_STAGE'],
    ['live', key('rk', 'test'), 'STRIPE_TEST_KEY_ON_LIVE_STAGE'],
  ] as const)('a %s stage refuses %s… (%s) and never prints the key', (mode, value, code) => {
    const findings = checkStage({ stage: 'production', mode, secrets: { STRIPE_API_KEY: value } });
    expect(findings.map((f) => f.code)).toEqual([code]);
    expect(findings[0]!.message).toContain('STRIPE_API_KEY');
    expect(findings[0]!.message).toContain('"production"');
    expect(findings[0]!.message).not.toContain(value);
    expect(findings[0]!.message).not.toContain(value.slice(8));
  });

  it('finds a Stripe key of the wrong mode in any secret, also inside a comma-separated list', () => {
    const live = key('sk', 'live');
    const findings = checkStage({
      stage: 'dev',
      mode: 'test',
      secrets: { STRIPE_WEBHOOK_SECRETS: `whsec_${tail()},${live}` },
    });
    expect(findings.map((f) => f.code)).toEqual(['STRIPE_LIVE_KEY_ON_TEST_STAGE']);
    expect(findings[0]!.message).not.toContain(live);
  });

  it('names a missing bound secret and the command that sets it', () => {
    const findings = checkStage({
      stage: 'pr-7',
      mode: 'test',
      secrets: { STRIPE_WEBHOOK_SECRETS: undefined, STRIPE_API_KEY: ' ' },
    });
    expect(findings.map((f) => f.code)).toEqual(['SECRET_MISSING', 'SECRET_MISSING']);
    expect(findings[0]!.message).toBe(
      'stage "pr-7": secret STRIPE_WEBHOOK_SECRETS is not set (npx sst secrets set STRIPE_WEBHOOK_SECRETS … --stage pr-7)',
    );
  });

  it('refuses an API key that is no secret or restricted key (a publishable key, a webhook secret)', () => {
    for (const value of [`pk_test_${tail()}`, `whsec_${tail()}`]) {
      const findings = checkStage({ stage: 'dev', mode: 'test', secrets: { STRIPE_API_KEY: value } });
      expect(findings.map((f) => f.code)).toEqual(['STRIPE_API_KEY_NOT_A_SECRET_KEY']);
      expect(findings[0]!.message).not.toContain(value);
    }
  });

  it('refuses STRIPE_LIVEMODE that disagrees with the mode, and a mode that is neither live nor test', () => {
    expect(checkStage({ stage: 'production', mode: 'live', stripeLivemode: 'false' })).toEqual([
      expect.objectContaining({ code: 'STRIPE_LIVEMODE_DISAGREES' }),
    ]);
    expect(checkStage({ stage: 'dev', mode: 'test', stripeLivemode: 'true' })[0]!.code).toBe(
      'STRIPE_LIVEMODE_DISAGREES',
    );
    expect(checkStage({ stage: 'dev', mode: 'prod' }).map((f) => f.code)).toEqual(['STAGE_MODE_INVALID']);
  });

  it('refuses merchant material that does not validate, with the parser reason', () => {
    const findings = checkStage({
      stage: 'dev',
      mode: 'test',
      merchants: { valid: false, reason: 'merchant 1900000001: apiV3Key must be 32 bytes' },
    });
    expect(findings).toEqual([
      {
        code: 'MERCHANTS_INVALID',
        message:
          'stage "dev": WeChat Pay merchant material does not validate: merchant 1900000001: apiV3Key must be 32 bytes',
      },
    ]);
  });
});

describe('assertStage', () => {
  it('throws StageRefusedError (code STAGE_REFUSED) with every finding, and returns when all is well', () => {
    expect(() =>
      assertStage({ stage: 'dev', mode: 'test', secrets: { STRIPE_API_KEY: key('rk', 'test') } }),
    ).not.toThrow();
    let caught: unknown;
    try {
      assertStage({
        stage: 'dev',
        mode: 'test',
        secrets: { STRIPE_API_KEY: key('rk', 'live'), OTHER: undefined },
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StageRefusedError);
    const refused = caught as StageRefusedError;
    expect(refused.code).toBe('STAGE_REFUSED');
    expect(refused.findings.map((f) => f.code)).toEqual(['STRIPE_LIVE_KEY_ON_TEST_STAGE', 'SECRET_MISSING']);
  });
});
