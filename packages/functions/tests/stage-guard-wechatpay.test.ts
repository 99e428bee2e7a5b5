// The WeChat Pay functions' entry modules run the cold-start stage guard, like stripe-webhook, recon-stripe and
// the consumer: a stage whose declared mode is not live/test, or whose merchant material does not validate, is
// refused before the handler builds anything. Each entry module reads process.env when it is imported, so every
// case imports a fresh copy under its own environment.
import { StageRefusedError } from '@payhooks/core/stage-guard';
import { generateSandboxMerchants } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const ENTRY_MODULES = {
  'wechatpay-webhook': () => import('../src/wechatpay-webhook.ts'),
  'recon-wechatpay': () => import('../src/recon-wechatpay.ts'),
  'sweep-wechatpay': () => import('../src/sweep-wechatpay.ts'),
} as const;

type Entry = keyof typeof ENTRY_MODULES;
type AnyHandler = (...args: unknown[]) => Promise<unknown>;

const saved = { ...process.env };

// The refusal's log line and metric are proven for guarded() in stage-guard.test.ts; here, that each entry is guarded.
beforeEach(() => {
  vi.resetModules();
});
afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

async function handlerOf(entry: Entry, env: Record<string, string>): Promise<AnyHandler> {
  for (const key of Object.keys(process.env))
    if (key.startsWith('WECHATPAY_') || key.startsWith('PAYHOOKS_STAGE')) delete process.env[key];
  Object.assign(process.env, env);
  return (await ENTRY_MODULES[entry]()).handler as AnyHandler;
}

describe.each(Object.keys(ENTRY_MODULES) as Entry[])('%s cold start', (entry) => {
  it('refuses merchant material that does not validate, before handling anything', async () => {
    const handler = await handlerOf(entry, {
      PAYHOOKS_STAGE: 'pr-7',
      PAYHOOKS_STAGE_MODE: 'test',
      WECHATPAY_MERCHANTS: '{"merchants": [{"mchid": 5}]}',
    });
    // A fresh module graph per case: the error is core's class of that graph, so match its code and findings.
    const refused = (await handler({}).catch((error: unknown) => error)) as StageRefusedError;
    expect(refused).toMatchObject({ name: StageRefusedError.name, code: 'STAGE_REFUSED' });
    expect(refused.findings.map((f) => f.code)).toEqual(['MERCHANTS_INVALID']);
  });

  it('refuses a declared mode that is neither live nor test', async () => {
    const { document } = await generateSandboxMerchants();
    const handler = await handlerOf(entry, {
      PAYHOOKS_STAGE: 'pr-7',
      PAYHOOKS_STAGE_MODE: 'prod',
      WECHATPAY_MERCHANTS: JSON.stringify(document),
    });
    await expect(handler({})).rejects.toMatchObject({
      code: 'STAGE_REFUSED',
      findings: [expect.objectContaining({ code: 'STAGE_MODE_INVALID' })],
    });
  });
});

describe('wechatpay-webhook on a stage that passes the guard', () => {
  it('answers the request (400 for one without WeChat Pay headers) instead of refusing', async () => {
    const { document } = await generateSandboxMerchants();
    const handler = await handlerOf('wechatpay-webhook', {
      PAYHOOKS_STAGE: 'pr-7',
      PAYHOOKS_STAGE_MODE: 'test',
      QUEUE_URL: 'http://127.0.0.1:9/unused',
      WECHATPAY_MERCHANTS: JSON.stringify(document),
    });
    const response = (await handler({
      version: '2.0',
      routeKey: 'POST /webhooks/wechatpay',
      rawPath: '/webhooks/wechatpay',
      rawQueryString: '',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      isBase64Encoded: false,
      requestContext: { requestId: 'r-1', http: { method: 'POST', path: '/webhooks/wechatpay' } },
    })) as { statusCode: number };
    expect(response.statusCode).toBe(400);
  });
});

describe('preflight of a Stripe-only stage (stacks/stages.ts providers: [stripe])', () => {
  const stripeOnly = {
    PAYHOOKS_STAGE: 'payments-eu',
    PAYHOOKS_STAGE_MODE: 'test',
    STRIPE_WEBHOOK_SECRETS: `whsec_${'a'.repeat(32)}`,
    STRIPE_API_KEY: `rk_${'test'}_${'b'.repeat(24)}`,
  };

  it('passes without any WeChat Pay merchant material, and says it checked none', async () => {
    const { runPreflight } = await import('../src/preflight.ts');
    const result = await runPreflight({ ...stripeOnly, PAYHOOKS_PROVIDERS: 'stripe' });
    expect(result.checked).toEqual(['STRIPE_WEBHOOK_SECRETS', 'STRIPE_API_KEY']);
  });

  it('still refuses a stage that takes WeChat Pay but has no merchant material', async () => {
    const { runPreflight } = await import('../src/preflight.ts');
    for (const providers of [{ PAYHOOKS_PROVIDERS: 'stripe,wechatpay' }, {}]) {
      await expect(runPreflight({ ...stripeOnly, ...providers })).rejects.toMatchObject({
        code: 'STAGE_REFUSED',
        findings: [expect.objectContaining({ code: 'MERCHANTS_INVALID' })],
      });
    }
  });
});
