// The pending-order sweep (and `backfill wechatpay`) against the provider sandbox: a paid order whose
// notification never arrived reaches the ledger through the queue; unpaid and unknown orders stay pending;
// a second sweep changes nothing.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseMerchants } from '@payhooks/core/providers/wechatpay';
import { createSqsQueue } from '@payhooks/functions/adapters/sqs';
import { healersFor, sweepPendingOrders } from '@payhooks/functions/sweep-wechatpay';
import {
  type ProviderSandbox,
  sandboxMerchantsFromGenerated,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import { generateSandboxMerchants, writeMerchantsFile } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../src/stack.ts';

let db: TestDatabase;
let stack: LocalStack;
let sandbox: ProviderSandbox;
let generated: Awaited<ReturnType<typeof generateSandboxMerchants>>;

beforeAll(async () => {
  db = await createTestDatabase();
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-sweep-'));
  generated = await generateSandboxMerchants();
  const file = await writeMerchantsFile(path.join(stateDir, 'merchants.json'), generated.document);
  stack = await startLocalStack({
    stateDir,
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: [randomWebhookSecret()],
    wechatpayMerchantsFile: file,
  });
  sandbox = await startProviderSandbox({
    wechatpay: { merchants: sandboxMerchantsFromGenerated(generated) },
  });
});
afterAll(async () => {
  await sandbox?.stop();
  await stack?.stop();
  await db?.drop();
});

describe('WeChat Pay pending-order sweep', () => {
  it('recovers a paid order whose notification was lost, once', async () => {
    const [main, second] = generated.merchants;
    const now = new Date();
    const paidAt = new Date(now.getTime() - 20 * 60_000);
    sandbox.wechatpay!.addTransaction({
      mchid: main!.mchid,
      outTradeNo: 'LOST-1',
      amountFen: 1999,
      successTime: paidAt,
      notified: false,
    });
    sandbox.wechatpay!.addTransaction({
      mchid: second!.mchid,
      outTradeNo: 'LOST-2',
      amountFen: 500,
      successTime: paidAt,
      notified: false,
    });
    sandbox.wechatpay!.addTransaction({
      mchid: main!.mchid,
      outTradeNo: 'UNPAID-1',
      amountFen: 300,
      tradeState: 'NOTPAY',
    });
    const created = new Date(now.getTime() - 30 * 60_000);
    await stack.sql`insert into merchant_orders (provider, merchant_order_no, amount_minor, currency, account, created_at) values
      ('wechatpay', 'LOST-1', 1999, 'CNY', ${main!.mchid}, ${created}),
      ('wechatpay', 'LOST-2', 500, 'CNY', ${second!.mchid}, ${created}),
      ('wechatpay', 'UNPAID-1', 300, 'CNY', ${main!.id}, ${created}),
      ('wechatpay', 'FRESH-1', 100, 'CNY', ${main!.mchid}, ${now})`;

    const deps = {
      sql: stack.sql,
      queue: createSqsQueue(stack.queues.client, stack.queues.queueUrl),
      healerFor: healersFor(parseMerchants(generated.document), { baseUrl: sandbox.url }),
      clock: { now: () => now },
      pendingMinutes: 10,
      lookbackHours: 24,
    };
    const first = await sweepPendingOrders(deps);
    // FRESH-1 is younger than the threshold and not queried at all.
    expect(first).toEqual({ checked: 3, enqueued: 2, stillPending: 1, errors: [] });
    await stack.drain();
    const payments = await stack.sql<
      { merchant_order_no: string; status: string; amount_minor: bigint; account: string }[]
    >`
      select merchant_order_no, status, amount_minor, account from payments where provider = 'wechatpay' order by 1`;
    expect(payments).toEqual([
      { merchant_order_no: 'LOST-1', status: 'succeeded', amount_minor: 1999n, account: main!.mchid },
      { merchant_order_no: 'LOST-2', status: 'succeeded', amount_minor: 500n, account: second!.mchid },
    ]);
    const inbox = await stack.sql<
      { raw_payload: string }[]
    >`select raw_payload from inbox_events where provider = 'wechatpay'`;
    expect(inbox).toHaveLength(2);
    for (const row of inbox) expect(row.raw_payload).not.toContain('LOST-'); // re-encrypted, like a notification

    const again = await sweepPendingOrders(deps);
    expect(again).toEqual({ checked: 1, enqueued: 0, stillPending: 1, errors: [] });
    await stack.drain();
    const [count] = await stack.sql<{ n: number }[]>`select count(*)::int as n from inbox_events`;
    expect(count?.n).toBe(2);
  });

  it("queries a sub-merchant's order through the partner query, named by merchant_orders.sub_account", async () => {
    const [main] = generated.merchants;
    const now = new Date();
    sandbox.wechatpay!.addTransaction({
      mchid: main!.mchid,
      subMchid: '1900000901',
      outTradeNo: 'SUB-LOST-1',
      amountFen: 4200,
      successTime: new Date(now.getTime() - 20 * 60_000),
      notified: false,
    });
    // The direct query does not know a sub-merchant's order: without sub_account the sweep would call it pending.
    await stack.sql`insert into merchant_orders (provider, merchant_order_no, amount_minor, currency, account, sub_account, created_at)
      values ('wechatpay', 'SUB-LOST-1', 4200, 'CNY', ${main!.mchid}, '1900000901', ${new Date(now.getTime() - 30 * 60_000)})`;

    const result = await sweepPendingOrders({
      sql: stack.sql,
      queue: createSqsQueue(stack.queues.client, stack.queues.queueUrl),
      healerFor: healersFor(parseMerchants(generated.document), { baseUrl: sandbox.url }),
      clock: { now: () => now },
      pendingMinutes: 10,
      lookbackHours: 24,
    });
    expect(result).toEqual({ checked: 2, enqueued: 1, stillPending: 1, errors: [] }); // UNPAID-1 of the first test
    await stack.drain();
    const [payment] = await stack.sql<{ status: string; amount_minor: bigint; sub_mchid: string | null }[]>`
      select p.status, p.amount_minor, m.sub_mchid from payments p
      left join wechatpay.transactions m on m.out_trade_no = p.merchant_order_no
      where p.merchant_order_no = 'SUB-LOST-1'`;
    expect(payment).toEqual({ status: 'succeeded', amount_minor: 4200n, sub_mchid: '1900000901' });
  });
});
