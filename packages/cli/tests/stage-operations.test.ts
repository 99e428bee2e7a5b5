// `payhooks --stage NAME recon run` and `payhooks --stage NAME backfill stripe` end to end: the CLI finds the
// stage from its stack outputs and invokes the operations function's real handler (only the Lambda Invoke hop is
// in process: tests/helpers/stage-harness.ts), which reconciles against the provider sandbox into a folder
// object store and a real Postgres, and backfills through the stage's queue, whose consumer books the ledger.
// A stage that is not deployed, and a principal without lambda:InvokeFunction, each get one clear line.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '@payhooks/core/logger';
import { createOperationsHandler } from '@payhooks/functions/operations';
import { createFolderStore } from '@payhooks/local/folder-store';
import { type LocalStack, startLocalStack } from '@payhooks/local/stack';
import {
  type ProviderSandbox,
  randomStripeSecretKey,
  sandboxMerchantsFromGenerated,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { buildStripeScenario, randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { generateSandboxMerchants, writeMerchantsFile } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../src/program.ts';
import { errorLine, type StageHarness, stageHarness } from './helpers/stage-harness.ts';

const apiKey = randomStripeSecretKey();
const BUSINESS_DATE = '2025-03-01';
let db: TestDatabase;
let stack: LocalStack;
let sandbox: ProviderSandbox;
let dir: string;
let reportsDir: string;
let mchid: string;
let harness: StageHarness;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-stage-ops-'));
  reportsDir = path.join(dir, 'reports-bucket');
  const generated = await generateSandboxMerchants();
  const merchantsFile = await writeMerchantsFile(path.join(dir, 'merchants.json'), {
    merchants: [generated.document.merchants[0]!],
  });
  const merchants = sandboxMerchantsFromGenerated(generated).slice(0, 1);
  mchid = merchants[0]!.mchid;
  [stack, sandbox] = await Promise.all([
    // The stage's queues and consumer (the event source mapping and the consumer function) on the same database.
    startLocalStack({
      stateDir: path.join(dir, 'state'),
      port: 0,
      databaseUrl: db.url,
      stripeWebhookSecrets: [randomWebhookSecret()],
    }),
    startProviderSandbox({ stripe: { apiKey }, wechatpay: { merchants } }),
  ]);
  // The operations function with the environment the stacks give it (stacks/Operations.ts), pointed at the
  // sandbox; its reports bucket is a folder store.
  const operations = createOperationsHandler(
    {
      DATABASE_URL: db.url,
      QUEUE_URL: stack.queues.queueUrl,
      SQS_ENDPOINT: stack.queues.endpoint,
      REPORTS_BUCKET: 'test-reports',
      STRIPE_API_KEY: apiKey,
      STRIPE_API_BASE_URL: sandbox.url,
      WECHATPAY_MERCHANTS_FILE: merchantsFile,
      WECHATPAY_API_BASE_URL: sandbox.url,
    },
    {
      logger: createLogger({ name: 'operations', destination: pino.destination('/dev/null') }),
      store: () => createFolderStore(reportsDir),
    },
  );
  harness = stageHarness({
    stage: 'test',
    queueUrl: stack.queues.queueUrl,
    dlqUrl: stack.queues.dlqUrl,
    reportsBucket: 'test-reports',
    sqs: stack.queues.client,
    operations,
  });
}, 180_000);
afterAll(async () => {
  await sandbox?.stop();
  await stack?.stop();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

async function cli(...args: string[]): Promise<{ out: string; exitCode: unknown }> {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...values: unknown[]) => {
    out.push(values.join(' '));
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await buildProgram(harness.ports, {})
      .exitOverride()
      .parseAsync(['node', 'payhooks', ...args]);
    return { out: out.join('\n'), exitCode: process.exitCode };
  } finally {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  }
}

const seedPayment = (id: string, amount: number, at: string) => db.sql`
  insert into payments (provider, provider_payment_id, account, merchant_order_no, amount_minor, currency, status,
    status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
  values ('wechatpay', ${id}, ${mchid}, ${`O-${id}`}, ${amount}, 'CNY', 'succeeded', 100, ${at}, ${at}, ${at}, 'seed', '0')`;

describe('payhooks --stage through the operations function', () => {
  it('recon run reconciles the date in the operations function: the report is in the bucket and the run row says so', async () => {
    const wx = sandbox.wechatpay!;
    const at = `${BUSINESS_DATE}T10:00:00+08:00`;
    const booked = wx.addTransaction({ mchid, outTradeNo: 'OPS-OK-1', amountFen: 1500, successTime: at });
    const differs = wx.addTransaction({
      mchid,
      outTradeNo: 'OPS-DIFF-1',
      amountFen: 2500,
      successTime: at,
      billAmountFen: 2600,
    });
    for (const tx of [booked, differs])
      await seedPayment(tx.transactionId!, Number(tx.amountFen), '2025-03-01T02:00:00Z');

    const { out, exitCode } = await cli(
      '--stage',
      'test',
      '--json',
      'recon',
      'run',
      '--provider',
      'wechatpay',
      '--date',
      BUSINESS_DATE,
    );
    expect(exitCode).toBeUndefined();
    expect(harness.invocations.at(-1)).toEqual({
      functionName: 'test-payhooks-Operations-OperationsFunction',
      request: { action: 'recon-run', provider: 'wechatpay', date: BUSINESS_DATE, force: false },
    });
    const [result] = JSON.parse(out) as {
      status: string;
      account: string;
      businessDate: string;
      counts: Record<string, number>;
      reportKey: string;
    }[];
    expect(result).toMatchObject({
      status: 'succeeded',
      account: mchid,
      businessDate: BUSINESS_DATE,
      counts: { matched: 1, amount_mismatch: 1 },
    });

    const [run] = await db.sql<
      { status: string; report_keys: { pointerKey: string; files: Record<string, string> } }[]
    >`
      select status, report_keys from recon_runs
      where provider = 'wechatpay' and account = ${mchid} and business_date = ${BUSINESS_DATE}`;
    expect(run?.status).toBe('succeeded');
    expect(result!.reportKey).toBe(run!.report_keys.pointerKey);
    // Every file the run row names is in the stage's reports bucket; the breaks name the differing order.
    const store = createFolderStore(reportsDir);
    const keys = [run!.report_keys.pointerKey, ...Object.values(run!.report_keys.files)];
    expect(keys.length).toBeGreaterThanOrEqual(4);
    for (const key of keys) expect(await store.get(key), key).toBeDefined();
    const breaksKey = keys.find((key) => key.endsWith('breaks.csv'))!;
    expect(await readFile(store.pathOf(breaksKey), 'utf8')).toContain('OPS-DIFF-1');
  });

  it('backfill stripe re-enqueues the events the ledger lacks, and the stage consumer books them', async () => {
    const now = Math.floor(Date.now() / 1000);
    const missed = buildStripeScenario({ seed: 314, payments: 4, startTime: now - 3600 });
    sandbox.stripe!.addEvents(missed.events);
    const since = new Date((now - 2 * 3600) * 1000).toISOString();

    const dry = await cli('--stage', 'test', '--json', 'backfill', 'stripe', '--since', since, '--dry-run');
    expect(JSON.parse(dry.out)).toMatchObject({ seen: missed.events.length, enqueued: 0, dryRun: true });
    expect(await stack.queues.depth(stack.queues.queueUrl)).toBe(0);

    const { out } = await cli('--stage', 'test', 'backfill', 'stripe', '--since', since);
    expect(out).toBe(
      `${missed.events.length} Stripe events listed, ${missed.events.length} enqueued; duplicates are absorbed by the inbox`,
    );
    await stack.drain();
    const inbox = await db.sql<{ event_id: string }[]>`
      select event_id from inbox_events where provider = 'stripe' and event_id in ${db.sql(missed.events.map((e) => e.id))}`;
    expect(inbox.map((r) => r.event_id).sort()).toEqual(missed.events.map((e) => e.id).sort());
    for (const [id, expected] of missed.expected.payments) {
      const [payment] = await db.sql<{ status: string; amount_minor: bigint }[]>`
        select status, amount_minor from payments where provider = 'stripe' and provider_payment_id = ${id}`;
      expect(payment, id).toEqual({ status: expected.status, amount_minor: expected.amountMinor });
    }
  });

  it('a stage that is not deployed is one line naming the stack, and nothing is invoked', async () => {
    const before = harness.invocations.length;
    const error = await cli('--stage', 'staging', 'recon', 'run', '--provider', 'stripe').catch(
      (e: unknown) => e,
    );
    expect(errorLine(error)).toBe(
      'CLI_STAGE_NOT_FOUND: stack staging-payhooks-Queue not found: is stage "staging" deployed there (--region, AWS_REGION)?',
    );
    expect(harness.invocations.length).toBe(before);
  });

  it('credentials without lambda:InvokeFunction are one line naming the function and the policy', async () => {
    harness.denyInvoke();
    for (const args of [
      ['recon', 'run', '--provider', 'wechatpay', '--date', BUSINESS_DATE],
      ['backfill', 'stripe', '--since', new Date(Date.now() - 3600_000).toISOString()],
    ]) {
      const line = errorLine(await cli('--stage', 'test', ...args).catch((e: unknown) => e));
      expect(line).toBe(
        "OPERATIONS_ACCESS_DENIED: not allowed to invoke test-payhooks-Operations-OperationsFunction (lambda:InvokeFunction): use credentials with the stage's operator policy",
      );
      expect(line).not.toContain('\n');
    }
  });
});
