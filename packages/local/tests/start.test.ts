// `npm start` as a function: callbacks from the sandbox, the ledger check, then the nightly reconciliation of
// yesterday against the provider sandbox's files, with exactly the deliberate differences as breaks, and finance's
// local report routes behind the bearer token.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDemo, runLocalDemo } from '../src/demo.ts';

let db: TestDatabase;
let dir: string;
let demo: LocalDemo;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  dir = await mkdtemp(path.join(tmpdir(), 'payhooks-start-'));
  demo = await runLocalDemo({
    stateDir: dir,
    port: 0,
    databaseUrl: db.url,
    // Seed 7 settles refunds on both providers with these sizes.
    seed: 7,
    stripePayments: 12,
    connectPayments: 2,
    wechatpayPayments: 10,
    now: new Date('2026-03-02T06:00:00Z'),
    log: () => {},
  });
}, 120_000);
afterAll(async () => {
  await demo?.stop();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('runLocalDemo (npm start)', () => {
  it('passes both providers’ callback checks with an empty DLQ', () => {
    expect(demo.stripeCheck.problems).toEqual([]);
    expect(demo.wechatpayCheck?.problems).toEqual([]);
    expect(demo.dlqDepth).toBe(0);
  });

  it('reconciles yesterday in each provider zone and reports exactly the deliberate breaks', async () => {
    expect(demo.dates).toEqual({ wechatpay: '2026-03-01', stripe: '2026-03-01' });
    expect(
      demo.recon.results.map((r) => `${r.provider}/${r.account || 'platform'}/${r.status}`).sort(),
    ).toEqual([
      'stripe/acct_1SandboxConnected/succeeded',
      'stripe/platform/succeeded',
      'wechatpay/1900000109/succeeded',
      'wechatpay/1900000110/succeeded',
    ]);
    expect(demo.reconCheck.problems).toEqual([]);
    expect(demo.ok).toBe(true);
    for (const provider of ['wechatpay', 'stripe'] as const) {
      expect(
        demo.expectedBreaks
          .filter((b) => b.provider === provider)
          .map((b) => `${b.class}/${b.healed}`)
          .sort(),
      ).toEqual(['amount_mismatch/false', 'missing_at_provider/false', 'missing_in_ledger/true']);
      const result = demo.recon.results.find((r) => r.provider === provider && r.breaks.total > 0)!;
      expect(result.counts).toMatchObject({ amount_mismatch: 1, missing_at_provider: 1 });
      expect(result.breaks).toMatchObject({ total: 3, healed: 1, unhealed: 2 });
      expect(demo.reconCheck.matchedRefunds[provider]).toBeGreaterThan(0);
    }
    // The payment that was never notified is in the ledger now, healed through the provider's query API.
    for (const healed of demo.expectedBreaks.filter((b) => b.healed)) {
      const [row] = await db.sql`select status from payments
        where provider = ${healed.provider} and provider_payment_id = ${healed.id}`;
      expect(row).toEqual({ status: 'succeeded' });
    }
  });

  it('writes the reports with BOM CSVs and serves them to finance only with the bearer token', async () => {
    const files = Object.values(demo.recon.reportFiles);
    expect(files).toHaveLength(4);
    for (const file of files) {
      expect((await readFile(file, 'utf8')).charCodeAt(0)).toBe(0xfeff);
      expect((await readFile(path.join(path.dirname(file), 'matched.csv'), 'utf8')).charCodeAt(0)).toBe(
        0xfeff,
      );
      expect(file.startsWith(demo.reportsDir)).toBe(true);
    }
    const local = JSON.parse(await readFile(demo.localJson, 'utf8'));
    expect(local).toMatchObject({
      reportsToken: demo.reportsToken,
      providerApiUrl: demo.sandbox.url,
      reportsDir: demo.reportsDir,
    });
    expect(local.stripeApiKey).toMatch(/^sk_test_/);

    const url = `${demo.stack.gatewayUrl}/reports`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const file = `${url}/stripe/platform/2026-03-01/breaks.csv`;
    expect((await fetch(file)).status).toBe(401);

    const auth = { headers: { authorization: `Bearer ${demo.reportsToken}` } };
    const listed = await fetch(url, auth);
    expect(listed.status).toBe(200);
    const { reports } = (await listed.json()) as {
      reports: { provider: string; account: string; businessDate: string; unhealedBreaks: number }[];
    };
    expect(
      reports
        .map((r) => `${r.provider}/${r.account || 'platform'}/${r.businessDate}/${r.unhealedBreaks}`)
        .sort(),
    ).toEqual([
      'stripe/acct_1SandboxConnected/2026-03-01/0',
      'stripe/platform/2026-03-01/2',
      'wechatpay/1900000109/2026-03-01/2',
      'wechatpay/1900000110/2026-03-01/0',
    ]);
    const link = await fetch(file, auth);
    expect(link.status).toBe(200);
    const { url: fileUrl } = (await link.json()) as { url: string };
    // A link a browser follows: the gateway's signed download route, not file:// (report-links.ts).
    expect(fileUrl).toMatch(
      new RegExp(
        `^${demo.stack.gatewayUrl}/local-reports/stripe/platform/2026-03-01/runs/.*/breaks\\.csv\\?expires=\\d+&signature=`,
      ),
    );
    const downloaded = await fetch(fileUrl);
    expect(downloaded.status).toBe(200);
    expect(downloaded.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  });
});
