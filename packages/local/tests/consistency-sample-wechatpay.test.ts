// Consistency sampling for WeChat Pay on real parts: payments and refunds of two direct merchants and a service
// provider's sub-merchants reach the ledger as encrypted notifications through the local stack's queue and consumer;
// the provider API sandbox then holds a newer state for some (a refund that failed as ABNORMAL, was retried by hand
// and paid, its notification lost; a sub-merchant order refunded since, whose mirror row still says SUCCESS).
// Sampling asks the sandbox's signed order and refund query APIs per merchant — the partner queries (sp_mchid +
// sub_mchid) for sub-merchant objects — compares with the ledger and, for sub-merchant objects, the `wechatpay.*`
// mirror (direct merchants have no mirror rows), reports the drift rate, and above 0.5 % resyncs the drifted
// objects through the queue, after which ledger and mirror agree with WeChat Pay; at or below it, nothing is
// enqueued.
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeEnvelope } from '@payhooks/core/envelope';
import type { Logger } from '@payhooks/core/ports';
import { createSqsQueue } from '@payhooks/functions/adapters/sqs';
import { runLocalConsistency } from '@payhooks/local/local-reconciliation';
import {
  type ProviderSandbox,
  sandboxMerchantsFromGenerated,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { randomWebhookSecret } from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  DEFAULT_SANDBOX_MERCHANTS,
  generateSandboxMerchants,
  type SandboxMerchant,
  writeMerchantsFile,
} from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { encodeNotification } from '@payhooks/testkit/sandbox/wechatpay-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../src/stack.ts';

let db: TestDatabase;
let stack: LocalStack;
let sandbox: ProviderSandbox;
let merchantsFile: string;
let shop: SandboxMerchant;
let kiosk: SandboxMerchant;
/** A service provider (服务商): its orders belong to sub-merchants and are notified in the partner format. */
let platform: SandboxMerchant;
const logged: { message: string; fields: Record<string, unknown> }[] = [];
const logger: Logger = {
  debug() {},
  info(message, fields = {}) {
    logged.push({ message, fields });
  },
  warn() {},
  error() {},
};

beforeAll(async () => {
  db = await createTestDatabase();
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-consistency-wx-'));
  const generated = await generateSandboxMerchants([
    ...DEFAULT_SANDBOX_MERCHANTS,
    { id: 'platform', mchid: '1230000109', appid: 'wx8888888888880001' },
  ]);
  [shop, kiosk, platform] = generated.merchants as [SandboxMerchant, SandboxMerchant, SandboxMerchant];
  merchantsFile = await writeMerchantsFile(path.join(stateDir, 'merchants.json'), {
    merchants: generated.document.merchants.map((m) =>
      m.mchid === platform.mchid ? { ...m, serviceProvider: true } : m,
    ),
  });
  stack = await startLocalStack({
    stateDir,
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: [randomWebhookSecret()],
    wechatpayMerchantsFile: merchantsFile,
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
beforeEach(async () => {
  await stack.drain();
  await stack.sql`truncate payments, refunds, inbox_events, wechatpay.transactions, wechatpay.refunds`;
});

const queue = () => createSqsQueue(stack.queues.client, stack.queues.queueUrl);
const beijing = (date: Date) =>
  `${new Date(date.getTime() + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`;

/** A notification of the sandbox's current state of the object, encrypted under the merchant's APIv3 key. */
function notification(
  merchant: SandboxMerchant,
  originalType: 'transaction' | 'refund',
  eventType: string,
  resource: Record<string, unknown>,
): string {
  const id = `N-${randomUUID()}`;
  const now = new Date();
  const rawBody = encodeNotification(
    {
      id,
      merchantId: merchant.id,
      eventType,
      originalType,
      summary: originalType === 'refund' ? '退款异常' : '支付成功',
      createTime: beijing(now),
      resource,
    },
    merchant.apiv3Key,
  );
  return encodeEnvelope({
    v: 1,
    provider: 'wechatpay',
    eventId: id,
    eventType,
    account: merchant.id,
    occurredAt: now.toISOString(),
    receivedAt: now.toISOString(),
    rawBody,
  });
}

/**
 * Orders paid at WeChat Pay whose TRANSACTION.SUCCESS notifications reached payhooks; with `subMchid`, a service
 * provider's sub-merchant orders, notified in the partner format (sp_mchid, sub_mchid).
 */
async function paidAndNotified(
  merchant: SandboxMerchant,
  outTradeNos: string[],
  subMchid?: string,
): Promise<void> {
  const q = queue();
  const paidAt = new Date(Date.now() - 30 * 60_000);
  for (const outTradeNo of outTradeNos) {
    sandbox.wechatpay!.addTransaction({
      mchid: merchant.mchid,
      ...(subMchid === undefined ? {} : { subMchid }),
      outTradeNo,
      amountFen: 1000,
      successTime: paidAt,
    });
    const resource = sandbox.wechatpay!.transactionResource(outTradeNo)!;
    await q.send(notification(merchant, 'transaction', 'TRANSACTION.SUCCESS', resource));
  }
  await stack.drain();
}

const sample = (sampleSize?: number) =>
  runLocalConsistency({
    sql: stack.sql,
    queue: queue(),
    env: { WECHATPAY_MERCHANTS_FILE: merchantsFile },
    providerApiUrl: sandbox.url,
    providers: ['wechatpay'],
    logger,
    ...(sampleSize === undefined ? {} : { sampleSize }),
  });

const refundStatus = async (outRefundNo: string) =>
  (
    await stack.sql<
      { status: string }[]
    >`select status from refunds where merchant_refund_no = ${outRefundNo}`
  )[0]?.status;

/**
 * Registers a refund at the sandbox and delivers its notification (REFUND.SUCCESS, or REFUND.ABNORMAL for an
 * ABNORMAL one) as WeChat Pay sends it: naming the merchant, or for a sub-merchant (`subMchid`) the service
 * provider as sp_mchid and the sub-merchant.
 */
async function refundNotified(
  merchant: SandboxMerchant,
  input: { outTradeNo: string; outRefundNo: string; amountFen: number; status?: 'ABNORMAL' },
  subMchid?: string,
) {
  const registered = sandbox.wechatpay!.addRefund(
    input.status === 'ABNORMAL' ? input : { ...input, successTime: new Date() },
  );
  const { status, ...rest } = sandbox.wechatpay!.refundResource(input.outRefundNo)!;
  const ids =
    subMchid === undefined ? { mchid: merchant.mchid } : { sp_mchid: merchant.mchid, sub_mchid: subMchid };
  await queue().send(
    notification(merchant, 'refund', `REFUND.${String(status)}`, { ...ids, ...rest, refund_status: status }),
  );
  await stack.drain();
  return registered;
}

/** A refund WeChat Pay answered ABNORMAL (notified), then paid after a manual retry (not notified). */
async function abnormalRefundPaidLater(
  outTradeNo: string,
  outRefundNo: string,
  merchant = shop,
  subMchid?: string,
) {
  await refundNotified(merchant, { outTradeNo, outRefundNo, amountFen: 400, status: 'ABNORMAL' }, subMchid);
  return sandbox.wechatpay!.setRefundStatus(outRefundNo, 'SUCCESS', new Date());
}

describe('consistency sampling (WeChat Pay, provider API sandbox, local queue)', () => {
  it('samples each merchant, resyncs drifted objects through the queue, and the ledger converges', async () => {
    await paidAndNotified(shop, ['WX-PAY-1', 'WX-PAY-2']);
    await paidAndNotified(kiosk, ['WX-PAY-3']);
    // A refund of WX-PAY-1 failed (ABNORMAL, notified); finance retried it by hand and WeChat Pay paid it, but that
    // notification never came: the ledger says abnormal, WeChat Pay says SUCCESS.
    const refund = await abnormalRefundPaidLater('WX-PAY-1', 'WX-REF-1');
    expect(await refundStatus('WX-REF-1')).toBe('abnormal');

    const first = await sample();
    const byAccount = new Map(first.samples.map((s) => [s.account, s]));
    expect([...byAccount.keys()].sort()).toEqual([shop.mchid, kiosk.mchid].sort());
    const atShop = byAccount.get(shop.mchid)!;
    // Sampled: WX-PAY-1, WX-PAY-2 (the order now shows REFUND, still a paid payment: no drift) and WX-REF-1.
    expect(atShop).toMatchObject({ provider: 'wechatpay', sampled: 3, failed: 0, resynced: 1 });
    expect(atShop.drifted).toEqual([
      { kind: 'refund', id: refund.refundId, differences: ['ledger status abnormal, provider succeeded'] },
    ]);
    expect(atShop.driftPercent).toBeCloseTo(100 / 3, 6);
    // The log line the drift alarm points to names the drifted object and what differs.
    const line = logged.find((l) => l.message === 'consistency sample' && l.fields.account === shop.mchid);
    expect(line?.fields).toMatchObject({ drifted: 1, resynced: 1, driftedObjects: atShop.drifted });
    expect(byAccount.get(kiosk.mchid)).toMatchObject({
      sampled: 1,
      drifted: [],
      driftPercent: 0,
      resynced: 0,
    });
    expect(
      first.metrics.counts.get(`ConsistencyDrift{provider=wechatpay,account=${shop.mchid}}`),
    ).toBeCloseTo(100 / 3, 6);
    expect(first.metrics.counts.get(`ConsistencyDrift{provider=wechatpay,account=${kiosk.mchid}}`)).toBe(0);

    await stack.drain();
    expect(await refundStatus('WX-REF-1')).toBe('succeeded');
    // The payment itself stayed paid: REFUND is a paid order that was (partly) refunded.
    const [payment] = await stack.sql<{ status: string }[]>`
      select status from payments where merchant_order_no = 'WX-PAY-1'`;
    expect(payment?.status).toBe('succeeded');

    const again = await sample();
    for (const s of again.samples) expect(s).toMatchObject({ drifted: [], driftPercent: 0, resynced: 0 });
  });

  it('drift at or below 0.5 % is reported but enqueues nothing', async () => {
    const orders = Array.from({ length: 199 }, (_, i) => `WX-MANY-${i}`);
    await paidAndNotified(shop, orders);
    // 199 payments and one refund whose paid state was never notified: 1 of 200 = 0.5 %, not above the threshold.
    const refund = await abnormalRefundPaidLater('WX-MANY-7', 'WX-MANY-REF-7');
    const inboxBefore = (await stack.sql`select 1 from inbox_events`).length;

    const { samples, metrics } = await sample(400);
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({ account: shop.mchid, sampled: 200, failed: 0, resynced: 0 });
    expect(samples[0]!.drifted.map((d) => d.id)).toEqual([refund.refundId]);
    expect(samples[0]!.driftPercent).toBeCloseTo(0.5, 6);
    expect(metrics.total('ConsistencyResynced')).toBe(0);

    await stack.drain();
    expect((await stack.sql`select 1 from inbox_events`).length).toBe(inboxBefore);
    expect(await refundStatus('WX-MANY-REF-7')).toBe('abnormal');
  });
});

interface MirrorRow {
  id: string;
  status: string;
  sub_mchid: string;
}

const mirrorTransaction = async (outTradeNo: string) =>
  (
    await stack.sql<MirrorRow[]>`
      select id, status, sub_mchid from wechatpay.transactions where out_trade_no = ${outTradeNo}`
  )[0];

describe("consistency sampling of a service provider's sub-merchants (partner queries, wechatpay.* mirror)", () => {
  const subA = '1900000201';
  const subB = '1900000202';

  it('reports the mirror drift of a sub-merchant whose ledger is right, and resync makes the mirror converge', async () => {
    await paidAndNotified(platform, ['SP-A-1', 'SP-A-2', 'SP-A-3', 'SP-A-4'], subA);
    await paidAndNotified(kiosk, ['WX-DIRECT-1']);
    // SP-A-2 was refunded and the partner REFUND.SUCCESS notification arrived: the ledger's refund and the refund's
    // mirror row agree with WeChat Pay, but WeChat Pay now shows the order as REFUND (转入退款), which no
    // notification tells, so the order's mirror row still says SUCCESS.
    const refund = await refundNotified(
      platform,
      { outTradeNo: 'SP-A-2', outRefundNo: 'SP-A-REF-2', amountFen: 300 },
      subA,
    );
    // A refund of SP-A-4 failed (partner REFUND.ABNORMAL notified), then WeChat Pay paid it without a notification:
    // ledger and mirror both say ABNORMAL, the partner refund query says SUCCESS (and the order now shows REFUND).
    const paidLater = await abnormalRefundPaidLater('SP-A-4', 'SP-A-REF-4', platform, subA);
    // SP-A-3's mirror row says NOTPAY (an older snapshot than the one WeChat Pay holds) while the payment row
    // already says succeeded.
    const stale = await mirrorTransaction('SP-A-3');
    await stack.sql`
      update wechatpay.transactions set status = 'NOTPAY', version = ${`0:000000000000001:010:planted`},
        data = jsonb_set(data, '{trade_state}', '"NOTPAY"')
      where id = ${stale!.id}`;
    expect((await mirrorTransaction('SP-A-2'))?.status).toBe('SUCCESS');
    expect((await mirrorTransaction('SP-A-3'))?.status).toBe('NOTPAY');
    const ledger = await stack.sql<{ merchant_order_no: string; status: string }[]>`
      select merchant_order_no, status from payments where account = ${platform.mchid} order by 1`;
    expect(ledger.map((p) => p.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);

    const first = await sample();
    const byAccount = new Map(first.samples.map((s) => [s.account, s]));
    const atPlatform = byAccount.get(platform.mchid)!;
    // Four orders and two refunds, every one asked through the partner queries (the sandbox answers a direct query
    // of a sub-merchant object with ORDER_NOT_EXIST / RESOURCE_NOT_EXISTS, which would count as failed).
    expect(atPlatform).toMatchObject({ sampled: 6, failed: 0, resynced: 4 });
    const byId = (x: { id: string }, y: { id: string }) => x.id.localeCompare(y.id);
    expect([...atPlatform.drifted].sort(byId)).toEqual(
      [
        {
          kind: 'payment',
          id: refund.transactionId,
          differences: ['mirror transaction status SUCCESS, provider REFUND'],
        },
        {
          kind: 'payment',
          id: paidLater.transactionId,
          differences: ['mirror transaction status SUCCESS, provider REFUND'],
        },
        {
          kind: 'payment',
          id: stale!.id,
          differences: ['mirror transaction status NOTPAY, provider SUCCESS'],
        },
        {
          kind: 'refund',
          id: paidLater.refundId,
          differences: [
            'ledger status abnormal, provider succeeded',
            'mirror refund status ABNORMAL, provider SUCCESS',
          ],
        },
      ].sort(byId),
    );
    expect(atPlatform.driftPercent).toBeCloseTo(400 / 6, 6);
    expect(
      first.metrics.counts.get(`ConsistencyDrift{provider=wechatpay,account=${platform.mchid}}`),
    ).toBeCloseTo(400 / 6, 6);
    // The direct merchant beside it is compared with the ledger alone, as before.
    expect(byAccount.get(kiosk.mchid)).toMatchObject({ sampled: 1, failed: 0, drifted: [], resynced: 0 });

    // The resync envelopes are partner notifications applied by the consumer: the mirror converges, the ledger
    // stays as it was.
    await stack.drain();
    expect(await mirrorTransaction('SP-A-2')).toMatchObject({ status: 'REFUND', sub_mchid: subA });
    expect(await mirrorTransaction('SP-A-3')).toMatchObject({ status: 'SUCCESS', sub_mchid: subA });
    expect(await mirrorTransaction('SP-A-4')).toMatchObject({ status: 'REFUND', sub_mchid: subA });
    const [mirroredRefund] = await stack.sql<MirrorRow[]>`
      select id, status, sub_mchid from wechatpay.refunds where id = ${paidLater.refundId}`;
    expect(mirroredRefund).toMatchObject({ status: 'SUCCESS', sub_mchid: subA });
    expect(await refundStatus('SP-A-REF-4')).toBe('succeeded');
    const after = await stack.sql<{ status: string }[]>`
      select status from payments where account = ${platform.mchid}`;
    expect(after.map((p) => p.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(await refundStatus('SP-A-REF-2')).toBe('succeeded');

    const again = await sample();
    for (const s of again.samples) expect(s).toMatchObject({ failed: 0, drifted: [], resynced: 0 });
  });

  it('a sub-merchant in agreement with WeChat Pay shows no drift; an object the mirror never saw cannot be asked', async () => {
    await paidAndNotified(platform, ['SP-B-1', 'SP-B-2', 'SP-B-3'], subB);
    const agreed = await sample();
    expect(agreed.samples).toHaveLength(1);
    expect(agreed.samples[0]).toMatchObject({
      account: platform.mchid,
      sampled: 3,
      failed: 0,
      drifted: [],
      driftPercent: 0,
      resynced: 0,
    });

    // Without its mirror row there is no sub_mchid to ask the partner query with: failed, left out of the rate.
    const gone = await mirrorTransaction('SP-B-3');
    await stack.sql`delete from wechatpay.transactions where id = ${gone!.id}`;
    const partial = await sample();
    expect(partial.samples[0]).toMatchObject({ sampled: 3, failed: 1, drifted: [], driftPercent: 0 });
  });
});
