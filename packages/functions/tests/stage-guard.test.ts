// The cold-start stage guard and the deploy-time preflight: a key of the wrong mode or a missing secret stops the
// function before it handles anything, with one log line per finding (no key in it) and a StageRefused count.
import { createLogger } from '@payhooks/core/logger';
import { StageRefusedError } from '@payhooks/core/stage-guard';
import { describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../src/adapters/metrics.ts';
import { runPreflight } from '../src/preflight.ts';
import { guarded, stageFindingsFromEnv } from '../src/wiring/stage-guard.ts';

const tail = () => Math.random().toString(36).slice(2).padEnd(24, 'x');
const liveKey = () => `rk_${'live'}_${tail()}`;
const testKey = () => `rk_${'test'}_${tail()}`;

function capture() {
  const lines: string[] = [];
  const logger = createLogger({ name: 'test', destination: { write: (line: string) => lines.push(line) } });
  return { lines, logger };
}

describe('guarded handler (cold start)', () => {
  it('refuses a live key on a test stage: logs one line without the key, counts StageRefused, never runs the handler', async () => {
    const key = liveKey();
    const { lines, logger } = capture();
    const metrics = new MemoryMetrics();
    let ran = 0;
    const handler = guarded(
      { PAYHOOKS_STAGE: 'pr-9', PAYHOOKS_STAGE_MODE: 'test', STRIPE_API_KEY: key },
      { service: 'recon-stripe', secrets: ['STRIPE_API_KEY'], logger, metrics },
      async () => {
        ran++;
        return 'ok';
      },
    );
    await expect(handler()).rejects.toBeInstanceOf(StageRefusedError);
    await expect(handler()).rejects.toMatchObject({ code: 'STAGE_REFUSED' });
    expect(ran).toBe(0);
    expect(metrics.total('StageRefused')).toBe(2);
    const refused = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 'error');
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({
      service: 'recon-stripe',
      code: 'STRIPE_LIVE_KEY_ON_TEST_STAGE',
      message: expect.stringMatching(
        /^stage refused: stage "pr-9" is a test stage but secret STRIPE_API_KEY holds a live Stripe key \(rk_live_…\)/,
      ),
    });
    expect(lines.join('\n')).not.toContain(key.slice(8));
  });

  it('refuses a missing bound secret and a STRIPE_LIVEMODE that disagrees with the mode', async () => {
    const metrics = new MemoryMetrics();
    const { logger } = capture();
    const webhook = guarded(
      { PAYHOOKS_STAGE: 'production', PAYHOOKS_STAGE_MODE: 'live' },
      { service: 'stripe-webhook', secrets: ['STRIPE_WEBHOOK_SECRETS'], logger, metrics },
      async () => 'ok',
    );
    await expect(webhook()).rejects.toMatchObject({
      findings: [expect.objectContaining({ code: 'SECRET_MISSING' })],
    });
    const consumer = guarded(
      { PAYHOOKS_STAGE: 'production', PAYHOOKS_STAGE_MODE: 'live', STRIPE_LIVEMODE: 'false' },
      { service: 'consumer', checkStripeLivemode: true, logger, metrics },
      async () => 'ok',
    );
    await expect(consumer()).rejects.toMatchObject({
      findings: [expect.objectContaining({ code: 'STRIPE_LIVEMODE_DISAGREES' })],
    });
  });

  it('runs the handler when the keys match the mode, and guards nothing without a declared mode (local runtime)', async () => {
    const handler = guarded(
      { PAYHOOKS_STAGE: 'production', PAYHOOKS_STAGE_MODE: 'live', STRIPE_API_KEY: liveKey() },
      { service: 'recon-stripe', secrets: ['STRIPE_API_KEY'] },
      async (n: number) => n + 1,
    );
    expect(await handler(1)).toBe(2);
    const local = guarded(
      { STRIPE_API_KEY: liveKey() },
      { service: 'recon-stripe', secrets: ['STRIPE_API_KEY'] },
      async () => 'ran',
    );
    expect(await local()).toBe('ran');
  });
});

describe('preflight (deploy time) and doctor findings', () => {
  it('refuses the deploy when a test key meets a live stage or the merchant material does not validate', async () => {
    const env = {
      PAYHOOKS_STAGE: 'production',
      PAYHOOKS_STAGE_MODE: 'live',
      STRIPE_WEBHOOK_SECRETS: `whsec_${tail()}`,
      STRIPE_API_KEY: testKey(),
      WECHATPAY_MERCHANTS: '{"merchants": [{"mchid": 5}]}',
    };
    const { lines, logger } = capture();
    const metrics = new MemoryMetrics();
    const refused = await runPreflight(env, { logger, metrics }).catch((error: unknown) => error);
    expect(metrics.total('StageRefused')).toBe(1);
    expect(lines).toHaveLength(2);
    expect(refused).toBeInstanceOf(StageRefusedError);
    expect((refused as StageRefusedError).findings.map((f) => f.code)).toEqual([
      'STRIPE_TEST_KEY_ON_LIVE_STAGE',
      'MERCHANTS_INVALID',
    ]);
    expect((refused as Error).message).not.toContain(env.STRIPE_API_KEY);
  });

  it('reports a missing mode as a finding for doctor instead of skipping the check', async () => {
    const findings = await stageFindingsFromEnv({ PAYHOOKS_STAGE: 'x' }, { service: 'doctor' });
    expect(findings.map((f) => f.code)).toEqual(['STAGE_MODE_INVALID']);
  });
});
