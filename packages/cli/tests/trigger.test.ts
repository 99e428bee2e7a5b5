// `payhooks trigger` against a served local stack (npm start -- --serve: embedded Postgres, the SQS emulator,
// consumer containers): each callback is signed with the secrets local.json carries, the gateway accepts it and
// the command reports the ledger rows it wrote. An unknown type is one line listing the supported ones.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ServedStack, serveLocalStack } from '@payhooks/local/demo';
import { createFolderStore } from '@payhooks/local/folder-store';
import { randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { signStripePayload } from '@payhooks/testkit/sandbox/stripe-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerSecrets } from '../src/commands/secrets.ts';
import { registerTrigger } from '../src/commands/trigger.ts';
import { createContext } from '../src/context.ts';
import { buildStripeTriggerEvent } from '../src/local/trigger.ts';
import { awsStagePorts } from '../src/target.ts';

let db: TestDatabase;
let dir: string;
let served: ServedStack;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  dir = await mkdtemp(path.join(tmpdir(), 'payhooks-trigger-'));
  served = await serveLocalStack({ stateDir: dir, port: 0, databaseUrl: db.url });
}, 120_000);
afterAll(async () => {
  await served?.stop();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function trigger(...args: string[]): Promise<Record<string, unknown>> {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...values: unknown[]) => {
    out.push(values.join(' '));
  });
  try {
    const env = { ...process.env, PAYHOOKS_STATE_DIR: dir };
    const program = new Command('payhooks').option('--json').option('--stage <name>').exitOverride();
    registerTrigger(program, createContext(awsStagePorts, env), env);
    await program.parseAsync(['node', 'payhooks', '--json', 'trigger', ...args]);
  } finally {
    spy.mockRestore();
  }
  return JSON.parse(out.join('\n')) as Record<string, unknown>;
}

describe('payhooks trigger (served local stack)', () => {
  it('serves without seeding: the ledger is empty and local.json carries the signing material', async () => {
    const [row] = await db.sql<{ count: number }[]>`select count(*)::int as count from inbox_events`;
    expect(row?.count).toBe(0);
    const local = JSON.parse(await readFile(served.localJson, 'utf8'));
    expect(local.stripeWebhookSecrets).toHaveLength(2);
    expect(local.stripeWebhookSecrets[0]).toMatch(/^whsec_/);
    expect(local.wechatpaySigningFile).toBe(path.join(dir, 'wechatpay', 'signing.json'));
  });

  it('stripe payment_intent.succeeded: applied, one succeeded payment', async () => {
    const result = await trigger('stripe', 'payment_intent.succeeded');
    expect(result).toMatchObject({ provider: 'stripe', httpStatus: 200, outcome: 'applied' });
    const rows = result.rows as { table: string; id: string; status: string }[];
    expect(rows.filter((r) => r.table === 'payments').map((r) => r.status)).toEqual(['succeeded']);
    const [payment] = await db.sql<{ status: string }[]>`
      select status from payments where provider = 'stripe' and last_event_id = ${result.eventId as string}`;
    expect(payment?.status).toBe('succeeded');
  });

  it('stripe charge.dispute.created and customer.deleted reach their tables', async () => {
    const dispute = await trigger('stripe', 'charge.dispute.created');
    expect((dispute.rows as { table: string }[]).map((r) => r.table)).toContain('disputes');
    const customer = await trigger('stripe', 'customer.deleted');
    expect(customer.rows).toEqual([expect.objectContaining({ table: 'stripe.customers' })]);
  });

  it('wechatpay TRANSACTION.SUCCESS and REFUND.SUCCESS: applied with their rows', async () => {
    const paid = await trigger('wechatpay', 'TRANSACTION.SUCCESS');
    expect(paid).toMatchObject({ provider: 'wechatpay', outcome: 'applied' });
    expect(
      (paid.rows as { table: string; status: string }[]).find((r) => r.table === 'payments')?.status,
    ).toBe('succeeded');
    const refunded = await trigger('wechatpay', 'REFUND.SUCCESS');
    expect(
      (refunded.rows as { table: string; status: string }[]).find((r) => r.table === 'refunds')?.status,
    ).toBe('succeeded');
  });

  it('an unknown event type is one line listing the supported ones', async () => {
    await expect(trigger('stripe', 'payment_intent.teleported')).rejects.toThrow(
      /supported: .*payment_intent\.succeeded.*customer\.deleted/,
    );
    await expect(trigger('wechatpay', 'TRANSACTION.FAILED')).rejects.toThrow(
      /supported: TRANSACTION\.SUCCESS, REFUND/,
    );
  });

  it('secrets add-stripe: the running gateway accepts a new endpoint secret from the next request', async () => {
    const secret = randomWebhookSecret();
    const send = async () => {
      const event = buildStripeTriggerEvent('payment_intent.succeeded');
      const body = JSON.stringify(event);
      const now = Math.floor(Date.now() / 1000);
      const response = await fetch(`${served.stack.gatewayUrl}/webhooks/stripe`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': signStripePayload(body, [secret], now),
        },
        body,
      });
      await response.arrayBuffer();
      return response.status;
    };
    expect(await send()).toBe(400);
    const out: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...values: unknown[]) => {
      out.push(values.join(' '));
    });
    try {
      const env = { ...process.env, PAYHOOKS_STATE_DIR: dir };
      const program = new Command('payhooks').option('--stage <name>').exitOverride();
      registerSecrets(program, createContext(awsStagePorts, env), env);
      await program.parseAsync(['node', 'payhooks', 'secrets', 'add-stripe', secret]);
    } finally {
      spy.mockRestore();
    }
    expect(out.join('\n')).toMatch(/added a Stripe endpoint secret/);
    expect(out.join('\n')).not.toContain(secret);
    expect(await send()).toBe(200);
    // The stack's own secrets still verify.
    expect(await trigger('stripe', 'charge.succeeded')).toMatchObject({
      httpStatus: 200,
      outcome: 'applied',
    });
  });

  it('report links are gateway URLs a plain fetch downloads, with the right content type', async () => {
    const local = JSON.parse(await readFile(served.localJson, 'utf8'));
    const store = createFolderStore(local.reportsDir);
    const run = 'stripe/platform/2025-03-01/runs/r1';
    const files = { 'summary.json': `${run}/summary.json`, 'breaks.csv': `${run}/breaks.csv` };
    await store.put(files['summary.json'], '{"unhealedBreaks":1}', 'application/json');
    await store.put(files['breaks.csv'], '\ufeffclass,id\r\namount_mismatch,pi_1\r\n', 'text/csv');
    await store.put(
      'stripe/platform/2025-03-01/latest.json',
      JSON.stringify({ provider: 'stripe', account: '', businessDate: '2025-03-01', runId: 'r1', files }),
      'application/json',
    );
    const auth = { headers: { authorization: `Bearer ${served.reportsToken}` } };
    const expected = {
      'summary.json': ['application/json', '{"unhealedBreaks":1}'],
      'breaks.csv': ['text/csv; charset=utf-8', '\ufeffclass,id\r\namount_mismatch,pi_1\r\n'],
    } as const;
    for (const [name, [contentType, body]] of Object.entries(expected)) {
      const answer = await fetch(`${local.reportsUrl}/stripe/platform/2025-03-01/${name}`, auth);
      expect(answer.status).toBe(200);
      const { url } = (await answer.json()) as { url: string };
      expect(url.startsWith(`${served.stack.gatewayUrl}/local-reports/${run}/${name}?`)).toBe(true);
      // No bearer token: the link itself is the credential, as a presigned S3 URL is.
      const download = await fetch(url);
      expect(download.status).toBe(200);
      expect(download.headers.get('content-type')).toBe(contentType);
      expect(Buffer.from(await download.arrayBuffer()).toString('utf8')).toBe(body);
      // A browser following the 302 lands on the same download.
      const redirected = await fetch(
        `${local.reportsUrl}/stripe/platform/2025-03-01/${name}?redirect=1`,
        auth,
      );
      expect(redirected.status).toBe(200);
      expect(redirected.headers.get('content-type')).toBe(contentType);
      // A link whose signature does not match its key is refused.
      const forged = url.replace(`/${name}?`, '/matched.csv?');
      expect((await fetch(forged)).status).toBe(403);
    }
  });
});
