// The provider API sandbox on the wire, without our clients: WeChat's Authorization check and error shapes,
// answers signed for the merchant configuration generateSandboxMerchants() writes, the bill knobs that create
// reconciliation breaks, and Stripe's auth, form-encoded report runs, list pagination and error shapes.
import {
  buildAuthorization,
  type MerchantRegistry,
  parseMerchants,
  verifyResponse,
  WechatpayClient,
} from '@payhooks/core/providers/wechatpay';
import {
  openBill,
  parseBalanceChangeReport,
  parseTradeBill,
  STRIPE_REPORT_TYPES,
} from '@payhooks/core/recon';
import {
  type ProviderSandbox,
  sandboxMerchantsFromGenerated,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { buildStripeScenario } from '@payhooks/testkit/sandbox/stripe-scenario';
import {
  generateSandboxMerchants,
  type SandboxMerchants,
} from '@payhooks/testkit/sandbox/wechatpay-merchants';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const DATE = '2025-03-01';
const clock = { now: () => new Date('2025-03-02T03:00:00Z') };

let sandbox: ProviderSandbox;
let generated: SandboxMerchants;
let registry: MerchantRegistry;

beforeAll(async () => {
  generated = await generateSandboxMerchants();
  registry = parseMerchants(generated.document);
  sandbox = await startProviderSandbox({
    clock,
    wechatpay: { merchants: sandboxMerchantsFromGenerated(generated) },
    stripe: { apiKey: 'sk_test_sandboxkey123' },
  });
  const wechat = sandbox.wechatpay!;
  const shop = registry.merchants[0]!.mchid;
  wechat.addTransaction({
    mchid: shop,
    outTradeNo: 'PAID',
    amountFen: 10_000,
    successTime: '2025-03-01 09:00:00',
  });
  // Deliberate differences for reconciliation:
  wechat.addTransaction({
    mchid: shop,
    outTradeNo: 'NEVER-NOTIFIED',
    amountFen: 2_000,
    successTime: '2025-03-01 10:00:00',
    notified: false,
  });
  wechat.addTransaction({
    mchid: shop,
    outTradeNo: 'NOT-IN-BILL',
    amountFen: 3_000,
    successTime: '2025-03-01 11:00:00',
    inBill: false,
  });
  wechat.addTransaction({
    mchid: shop,
    outTradeNo: 'AMOUNT-DIFF',
    amountFen: 4_000,
    successTime: '2025-03-01 12:00:00',
    billAmountFen: 4_100,
  });
  wechat.addRefund({
    outTradeNo: 'PAID',
    outRefundNo: 'R-1',
    amountFen: 1_000,
    successTime: '2025-03-01 13:00:00',
  });
  // The second merchant's order must not leak into the first merchant's bill.
  wechat.addTransaction({
    mchid: registry.merchants[1]!.mchid,
    outTradeNo: 'OTHER-MERCHANT',
    amountFen: 1,
    successTime: '2025-03-01 09:00:00',
  });
});

afterAll(async () => {
  await sandbox.stop();
});

const TRADE_PATH = `/v3/bill/tradebill?bill_date=${DATE}&bill_type=ALL`;

function signed(path: string, privateKey = registry.merchants[0]!.privateKey): Record<string, string> {
  const merchant = registry.merchants[0]!;
  return {
    authorization: buildAuthorization({
      method: 'GET',
      pathWithQuery: path,
      body: '',
      mchid: merchant.mchid,
      serialNo: merchant.certificateSerial,
      privateKey,
      now: clock.now(),
    }),
  };
}

async function get(path: string, headers: Record<string, string>) {
  const response = await fetch(`${sandbox.url}${path}`, { headers });
  const raw = Buffer.from(await response.arrayBuffer());
  const lower: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    lower[name] = value;
  });
  return { status: response.status, raw, headers: lower, json: () => JSON.parse(raw.toString('utf8')) };
}

describe('WeChat Pay merchant API', () => {
  it('refuses a request without Authorization with 401 {code: SIGN_ERROR, message}', async () => {
    const answer = await get(TRADE_PATH, {});
    expect(answer.status).toBe(401);
    expect(answer.json()).toMatchObject({ code: 'SIGN_ERROR', message: expect.any(String) });
  });

  it('refuses a signature made for another path or with another key', async () => {
    const otherPath = await get(TRADE_PATH, signed(`/v3/bill/tradebill?bill_date=${DATE}&bill_type=SUCCESS`));
    expect([otherPath.status, otherPath.json().code]).toEqual([401, 'SIGN_ERROR']);
    const otherKey = await get(TRADE_PATH, signed(TRADE_PATH, registry.merchants[1]!.privateKey));
    expect([otherKey.status, otherKey.json().code]).toEqual([401, 'SIGN_ERROR']);
  });

  it('signs answers so the generated merchant configuration verifies them', async () => {
    const answer = await get(TRADE_PATH, signed(TRADE_PATH));
    expect(answer.status).toBe(200);
    const verified = verifyResponse({
      rawBody: answer.raw,
      headers: answer.headers,
      verificationKeys: registry.merchants[0]!.verificationKeys,
      now: clock.now(),
      toleranceSeconds: 300,
    });
    expect(verified.serial).toBe(generated.merchants[0]!.keys[0].serial);
    expect(answer.json()).toMatchObject({
      hash_type: 'SHA1',
      download_url: expect.stringContaining('/v3/billdownload/file'),
    });
  });

  it('refuses an unsigned download request', async () => {
    const bill = (await get(TRADE_PATH, signed(TRADE_PATH))).json() as { download_url: string };
    const answer = await fetch(bill.download_url);
    expect(answer.status).toBe(401);
  });

  it('builds bills with the registered differences', async () => {
    const client = new WechatpayClient({ merchant: registry.merchants[0]!, baseUrl: sandbox.url, clock });
    const answer = await client.tradeBill(DATE, 'ALL', { gzip: true });
    if (answer.empty) throw new Error('expected a bill');
    const rows = [];
    for await (const row of parseTradeBill(
      openBill(await client.download(answer.downloadUrl), { expectedSha1: answer.hashValue }),
    )) {
      rows.push(row);
    }
    const byOrder = new Map(rows.filter((r) => r.tradeState === 'SUCCESS').map((r) => [r.outTradeNo, r]));
    expect([...byOrder.keys()]).toEqual(['PAID', 'NEVER-NOTIFIED', 'AMOUNT-DIFF']);
    expect(byOrder.get('AMOUNT-DIFF')!.settlementAmountFen).toBe(4_100n);
    expect(rows.filter((r) => r.tradeState === 'REFUND').map((r) => r.outRefundNo)).toEqual(['R-1']);

    const notInBill = await client.queryTransactionByOutTradeNo('NOT-IN-BILL');
    expect(notInBill.status).toBe('succeeded');
    const amountDiff = await client.queryTransactionByOutTradeNo('AMOUNT-DIFF');
    expect(amountDiff.transaction.amount.total).toBe(4_000);
    expect(
      sandbox
        .wechatpay!.transactions()
        .filter((t) => !t.notified)
        .map((t) => t.outTradeNo),
    ).toEqual(['NEVER-NOTIFIED']);
  });

  it('serves the REFUND and SUCCESS bill types with their own rows', async () => {
    const client = new WechatpayClient({ merchant: registry.merchants[0]!, baseUrl: sandbox.url, clock });
    for (const [type, states] of [
      ['REFUND', ['REFUND']],
      ['SUCCESS', ['SUCCESS', 'SUCCESS', 'SUCCESS']],
    ] as const) {
      const answer = await client.tradeBill(DATE, type);
      if (answer.empty) throw new Error('expected a bill');
      const rows = [];
      for await (const row of parseTradeBill(
        openBill(await client.download(answer.downloadUrl), { expectedSha1: answer.hashValue }),
      )) {
        rows.push(row.tradeState);
      }
      expect(rows).toEqual(states);
    }
  });
});

describe('Stripe API', () => {
  const auth = { authorization: 'Bearer sk_test_sandboxkey123' };

  it('answers Stripe error shapes for a missing or wrong key and unknown URLs', async () => {
    const none = await get('/v1/events', {});
    expect([none.status, none.json().error.type]).toEqual([401, 'invalid_request_error']);
    const wrong = await get('/v1/events', { authorization: 'Bearer sk_test_wrong' });
    expect(wrong.json().error.message).toMatch(/^Invalid API Key provided/);
    const unknown = await get('/v1/nothing/here/at/all', auth);
    expect([unknown.status, unknown.json().error.type]).toEqual([404, 'invalid_request_error']);
  });

  it('accepts Basic auth with the key as user name (as files.stripe.com does)', async () => {
    const basic = { authorization: `Basic ${Buffer.from('sk_test_sandboxkey123:').toString('base64')}` };
    expect((await get('/v1/events?limit=1', basic)).status).toBe(200);
  });

  it('lists events with created filters and cursors, and serves the newest snapshot per object', async () => {
    const scenario = buildStripeScenario({ seed: 3, payments: 6, startTime: 1_740_800_000 });
    // Delivered out of order: the object answered is still the newest snapshot.
    sandbox.stripe!.addEvents([...scenario.events].reverse());
    const first = (
      await get('/v1/events?created[gte]=1740800000&created[lt]=1740800030&limit=3', auth)
    ).json();
    expect(first).toMatchObject({ object: 'list', has_more: true });
    const last = first.data.at(-1).id;
    const second = (
      await get(
        `/v1/events?created[gte]=1740800000&created[lt]=1740800030&limit=3&starting_after=${last}`,
        auth,
      )
    ).json();
    expect(second.data[0].created).toBeLessThanOrEqual(first.data.at(-1).created);
    expect(new Set([...first.data, ...second.data].map((e: { id: string }) => e.id)).size).toBe(
      first.data.length + second.data.length,
    );
    const [id, payment] = [...scenario.expected.payments.entries()][0]!;
    expect((await get(`/v1/payment_intents/${id}`, auth)).json().status).toBe(payment.status);
  });

  it('creates report runs from form-encoded parameters and serves the CSV once succeeded', async () => {
    const stripe = sandbox.stripe!;
    stripe.setDataAvailableEnd(1_740_873_600);
    const [kept, excluded] = stripe.addBalanceTransactions([
      {
        created: 1_740_787_300,
        currency: 'usd',
        grossMinor: 1_000,
        feeMinor: 59,
        chargeId: 'ch_in_report',
        metadata: { order_id: 'A-1' },
      },
      { created: 1_740_900_000, currency: 'usd', grossMinor: 500, chargeId: 'ch_after_interval' },
    ]);
    const body = new URLSearchParams({
      report_type: STRIPE_REPORT_TYPES.balanceChange,
      'parameters[interval_start]': '1740787200',
      'parameters[interval_end]': '1740873600',
      'parameters[columns][0]': 'balance_transaction_id',
    });
    const created = await fetch(`${sandbox.url}/v1/reporting/report_runs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const run = (await created.json()) as { id: string; status: string; parameters: { columns: string[] } };
    expect([run.status, run.parameters.columns]).toEqual(['pending', ['balance_transaction_id']]);
    expect((await get(`/v1/reporting/report_runs/${run.id}`, auth)).json().status).toBe('pending');
    const done = (await get(`/v1/reporting/report_runs/${run.id}`, auth)).json();
    expect(done.status).toBe('succeeded');
    const csv = await get(`/v1/files/${done.result.id}/contents`, auth);
    const ids = [];
    for await (const row of parseBalanceChangeReport(csv.raw)) ids.push(row.balanceTransactionId);
    expect(ids).toContain(kept!.balanceTransactionId);
    expect(ids).not.toContain(excluded!.balanceTransactionId);
    const late = await fetch(`${sandbox.url}/v1/reporting/report_runs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        report_type: STRIPE_REPORT_TYPES.balanceChange,
        'parameters[interval_start]': '1740787200',
        'parameters[interval_end]': '1740960000',
      }),
    });
    expect([late.status, ((await late.json()) as { error: { param: string } }).error.param]).toEqual([
      400,
      'parameters[interval_end]',
    ]);
  });
});
