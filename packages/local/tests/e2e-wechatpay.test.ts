// End to end on real parts: HTTP gateway → WeChat Pay handler → SQS emulator → poller → consumer (decrypt,
// normalize) → Postgres, with the sandbox's generated merchants, both key modes, both routes, retries,
// reordering, a probe and forgeries.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { prng } from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  generateSandboxMerchants,
  type SandboxMerchants,
  writeMerchantsFile,
} from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { buildWechatpayScenario, type WechatpayScenario } from '@payhooks/testkit/sandbox/wechatpay-scenario';
import {
  encodeNotification,
  planWechatpayDeliveries,
  sendWechatpayDeliveries,
  signNotification,
  type WechatpayDeliveryResult,
} from '@payhooks/testkit/sandbox/wechatpay-sender';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWechatpayLedger } from '../src/check.ts';
import { type LocalStack, startLocalStack } from '../src/stack.ts';

let db: TestDatabase;
let stack: LocalStack;
let sandbox: SandboxMerchants;
let scenario: WechatpayScenario;
let results: WechatpayDeliveryResult[];

beforeAll(async () => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-e2e-wx-'));
  [db, sandbox] = await Promise.all([createTestDatabase(), generateSandboxMerchants()]);
  stack = await startLocalStack({
    stateDir,
    port: 0,
    databaseUrl: db.url,
    stripeWebhookSecrets: ['whsec_unused'],
    consumerConcurrency: 3,
    wechatpayMerchantsFile: await writeMerchantsFile(
      path.join(stateDir, 'wechatpay', 'merchants.json'),
      sandbox.document,
    ),
  });
  scenario = buildWechatpayScenario({ seed: 7, payments: 30, merchants: sandbox.merchants });
  for (const order of scenario.merchantOrders) {
    await stack.sql`insert into merchant_orders (provider, merchant_order_no, amount_minor, currency)
      values ('wechatpay', ${order.merchantOrderNo}, ${order.amountMinor.toString()}, ${order.currency})`;
  }
  const deliveries = planWechatpayDeliveries(scenario, {
    merchants: sandbox.merchants,
    random: prng(3),
    duplicateRate: 0.3,
    forgeries: true,
    now: Math.floor(Date.now() / 1000),
  });
  results = await sendWechatpayDeliveries(stack.gatewayUrl, deliveries, 8);
  await stack.drain();
});

afterAll(async () => {
  await stack?.stop();
  await db?.drop();
});

const count = (kind: string) => results.filter((r) => r.kind === kind).length;

describe('WeChat Pay end to end', () => {
  it('answers 204 to genuine notifications in both key modes and retries, and 4xx to the probe and each forgery', () => {
    for (const result of results)
      expect(result.status, `${result.kind} ${result.eventId}`).toBe(result.expectedStatus);
    const statusOf = (kind: string) => results.find((r) => r.kind === kind)?.status;
    expect(count('genuine')).toBeGreaterThan(0);
    expect(count('certificate-key')).toBeGreaterThan(0);
    expect(count('duplicate')).toBeGreaterThan(0);
    expect({
      probe: statusOf('probe'),
      key: statusOf('forged-key'),
      tampered: statusOf('forged-tampered'),
      stale: statusOf('forged-stale'),
      serial: statusOf('forged-serial'),
      unsigned: statusOf('forged-unsigned'),
      signatureType: statusOf('forged-signature-type'),
      notJson: statusOf('forged-not-json'),
      oversize: statusOf('forged-oversize'),
    }).toEqual({
      probe: 401,
      key: 401,
      tampered: 401,
      stale: 401,
      serial: 401,
      unsigned: 400,
      signatureType: 400,
      notJson: 400,
      oversize: 413,
    });
  });

  it('used both routes: the per-merchant path and the bare path routed by serial', () => {
    const paths = new Set(results.filter((r) => r.status === 204).map((r) => r.path));
    expect(paths).toEqual(new Set(['/webhooks/wechatpay/shop', '/webhooks/wechatpay']));
  });

  it('holds exactly the scenario in the ledger: each notification once, final states and anomalies as predicted', async () => {
    const check = await checkWechatpayLedger(stack.sql, scenario, results);
    expect(check.problems).toEqual([]);
    const [counted] = await stack.sql<
      { n: number }[]
    >`select count(*)::int as n from inbox_events where provider = 'wechatpay'`;
    expect(counted?.n).toBe(scenario.notifications.length);
    expect(scenario.expected.refunds.size).toBeGreaterThan(0);
  });

  it('counts probes apart from rejections and absorbs every retry at the inbox', async () => {
    const { ingress, consumer } = stack.metrics;
    expect(ingress.total('CallbackProbe')).toBe(1);
    expect(ingress.total('CallbackRejected')).toBe(results.filter((r) => r.kind.startsWith('forged')).length);
    // Retries are counted from what the ingress answered; SQS may deliver each queued message more than once
    // (a batch outliving its visibility timeout under load), so consumer outcome counts are only lower bounds.
    const accepted = results.filter((r) => r.status === 204);
    const acceptedIds = new Set(accepted.map((r) => r.eventId));
    const retries = accepted.length - acceptedIds.size;
    expect(acceptedIds.size).toBe(scenario.notifications.length);
    expect(retries).toBeGreaterThan(0);
    expect(ingress.total('CallbackAccepted')).toBe(accepted.length);
    const rows = await stack.sql<{ event_id: string; rows: number }[]>`
      select event_id, count(*)::int as rows from inbox_events
      where provider = 'wechatpay' and event_id in ${stack.sql([...acceptedIds])} group by event_id`;
    expect(new Map(rows.map((r) => [r.event_id, r.rows]))).toEqual(
      new Map([...acceptedIds].map((id) => [id, 1])),
    );
    // Applied once per notification whatever the deliveries; every retry met the inbox at least once.
    expect(consumer.total('EventApplied')).toBe(rows.length);
    expect(consumer.total('EventDuplicate')).toBeGreaterThanOrEqual(retries);
    // Concurrent batches may deadlock on shared rows (40P01) and be redelivered; nothing may end in the DLQ.
    expect(await stack.queues.depth(stack.queues.dlqUrl)).toBe(0);
  });

  it('keeps the probe and forgeries out of the ledger', async () => {
    const ids = results.filter((r) => r.expectedStatus !== 204).map((r) => r.eventId);
    const found = await stack.sql`select event_id from inbox_events where event_id in ${stack.sql(ids)}`;
    expect(found).toEqual([]);
  });

  it('stores the raw body byte for byte, still encrypted, with the configured merchant as account', async () => {
    const sent = results.find((r) => r.kind === 'genuine' && r.path === '/webhooks/wechatpay')!;
    const [row] = await stack.sql<{ raw_payload: string; account: string; outcome: string }[]>`
      select raw_payload, account, outcome from inbox_events where event_id = ${sent.eventId}`;
    expect(row!.raw_payload).toBe(sent.body);
    expect(row!.raw_payload).not.toMatch(/openid|out_trade_no/);
    expect(row!.account).toBe('kiosk');
  });

  it('stores unknown types without touching payments, and projects profit sharing in either envelope', async () => {
    const rows = await stack.sql<{ event_type: string; outcome: string }[]>`
      select event_type, outcome from inbox_events where event_id in ${stack.sql([...scenario.expected.stored])} order by event_type`;
    expect(rows).toEqual([{ event_type: 'MARKETING.FAVOR.USED', outcome: 'stored' }]);
    const [counted] = await stack.sql<
      { n: number }[]
    >`select count(*)::int as n from payments where provider = 'wechatpay'`;
    expect(counted?.n).toBe(scenario.expected.payments.size);
    const shares = await stack.sql<{ movement: string }[]>`
      select status || ' ' || amount_minor as movement from wechatpay.profit_sharing`;
    expect(shares.map((s) => s.movement).sort()).toEqual(
      [...scenario.expected.profitSharing.values()].map((s) => `${s.status} ${s.amountMinor}`).sort(),
    );
    expect(new Set(shares.map((s) => s.movement.split(' ')[0]))).toEqual(new Set(['SUCCESS', 'RETURN']));
  });

  it('books each sub-order of a combined payment and keeps the sub-merchant of a service-provider payment', async () => {
    const rows = await stack.sql<
      { id: string; sub_mchid: string | null; combine_out_trade_no: string | null }[]
    >`
      select id, sub_mchid, combine_out_trade_no from wechatpay.transactions order by id`;
    expect(new Map(rows.map((r) => [r.id, r.sub_mchid]))).toEqual(scenario.expected.subMerchants);
    expect(rows.filter((r) => r.combine_out_trade_no !== null)).toHaveLength(2);
    expect(JSON.stringify(await stack.sql`select data from wechatpay.transactions`)).not.toContain('openid');
  });

  it('writes one amount anomaly for the order whose merchant_orders row disagrees', async () => {
    const rows =
      await stack.sql`select provider_payment_id, merchant_order_no, kind, expected_amount_minor, actual_amount_minor
      from payment_anomalies where provider = 'wechatpay'`;
    const [transactionId] = [...scenario.expected.anomalies.keys()];
    const payment = scenario.expected.payments.get(transactionId!)!;
    expect(rows).toEqual([
      {
        provider_payment_id: transactionId,
        merchant_order_no: payment.merchantOrderNo,
        kind: 'amount_mismatch',
        expected_amount_minor: payment.amountMinor + 100n,
        actual_amount_minor: payment.amountMinor,
      },
    ]);
    expect(stack.metrics.consumer.total('PaymentAnomaly')).toBe(1);
  });

  it('accepts a binary body (base64 through the gateway) and answers failures with {"code":"FAIL"}', async () => {
    const merchant = sandbox.merchants[1]!;
    const spec = {
      ...scenario.notifications.find((n) => n.merchantId === merchant.id)!,
      id: 'EV-binary-body',
    };
    const body = encodeNotification(spec, merchant.apiv3Key);
    const headers = signNotification(body, merchant.keys[1], Math.floor(Date.now() / 1000));
    const ok = await fetch(`${stack.gatewayUrl}/webhooks/wechatpay`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body,
    });
    expect(ok.status).toBe(204);
    const failed = await fetch(`${stack.gatewayUrl}/webhooks/wechatpay/kiosk`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'Wechatpay-Timestamp': '1' },
      body,
    });
    expect(failed.status).toBe(401);
    expect(await failed.json()).toEqual({ code: 'FAIL', message: expect.stringMatching(/timestamp/) });
    await stack.drain();
    const rows =
      await stack.sql`select raw_payload, outcome from inbox_events where event_id = 'EV-binary-body'`;
    expect(rows).toEqual([{ raw_payload: body, outcome: 'applied' }]);
  });
});
