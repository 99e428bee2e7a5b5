// The order-status API on the local gateway, as a merchant's app calls it: HTTP with the bearer token, against a
// ledger written by the real projections (applyChanges, with its anomaly check) in real PostgreSQL, read through
// the read-only role. Every 200 and 4xx body is checked against docs/openapi/orders.yaml's schemas.
import { readFile } from 'node:fs/promises';
import {
  applyChanges,
  createSql,
  DATABASE_ROLES,
  type LedgerChange,
  recordMerchantOrders,
} from '@payhooks/core/ledger';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Gateway, startGateway } from '../src/gateway.ts';
import { localOrderRoutes, ORDERS_OPENAPI_FILE } from '../src/orders.ts';
import { requireBearerToken } from '../src/stack.ts';
import { validate } from './helpers/json-schema.ts';

const TOKEN = 'orders-test-token-0123456789';
let db: TestDatabase;
let gateway: Gateway;
let stopOrders: () => Promise<void>;
let spec: Record<string, unknown>;

const at = (iso: string) => new Date(iso);
const pay = (
  id: string,
  order: string,
  status: 'succeeded' | 'pending' | 'failed',
  amountMinor: bigint,
  asOf: string,
  extra: Partial<{ account: string; currency: string; provider: 'stripe' | 'wechatpay' }> = {},
): LedgerChange => ({
  kind: 'payment',
  provider: extra.provider ?? 'stripe',
  account: extra.account ?? '',
  providerPaymentId: id,
  merchantOrderNo: order,
  amountMinor,
  currency: extra.currency ?? 'USD',
  status,
  asOf: at(asOf),
});

async function apply(eventId: string, ...changes: LedgerChange[]) {
  await db.sql.begin((tx) => applyChanges(tx, changes, eventId));
}

beforeAll(async () => {
  db = await createTestDatabase();
  spec = parse(await readFile(ORDERS_OPENAPI_FILE, 'utf8')) as Record<string, unknown>;
  await recordMerchantOrders(db.sql, 'stripe', [
    { merchantOrderNo: 'O-PAID', amountMinor: 1999n, currency: 'USD', account: 'platform' },
    { merchantOrderNo: 'O-PART', amountMinor: 5000n, currency: 'USD', account: 'platform' },
    { merchantOrderNo: 'O-REFUND', amountMinor: 1000n, currency: 'USD', account: 'platform' },
    { merchantOrderNo: 'O-DISPUTE', amountMinor: 2500n, currency: 'USD', account: 'platform' },
    { merchantOrderNo: 'O-UNPAID', amountMinor: 700n, currency: 'USD', account: 'platform' },
    // Beyond 2^53 minor units: a JSON number would round it.
    { merchantOrderNo: 'O-BIG', amountMinor: 9007199254740993n, currency: 'USD', account: 'acct_big' },
  ]);
  await recordMerchantOrders(db.sql, 'wechatpay', [
    { merchantOrderNo: 'WX-1', amountMinor: 100n, currency: 'CNY' },
  ]);
  await apply('evt_paid', pay('pi_paid', 'O-PAID', 'succeeded', 1999n, '2026-11-01T10:00:00Z'));
  // Paid less than the order: the consumer's check records an amount anomaly.
  await apply('evt_part', pay('pi_part', 'O-PART', 'succeeded', 3000n, '2026-11-01T10:05:00Z'));
  await apply('evt_ref_p', pay('pi_ref', 'O-REFUND', 'succeeded', 1000n, '2026-11-01T11:00:00Z'));
  await apply('evt_ref', {
    kind: 'refund',
    provider: 'stripe',
    account: '',
    providerRefundId: 're_1',
    providerPaymentId: 'pi_ref',
    merchantRefundNo: null,
    merchantOrderNo: 'O-REFUND',
    amountMinor: 1000n,
    currency: 'USD',
    status: 'succeeded',
    asOf: at('2026-11-02T09:00:00Z'),
  });
  await apply('evt_dis_p', pay('pi_dis', 'O-DISPUTE', 'succeeded', 2500n, '2026-11-01T12:00:00Z'));
  await apply('evt_dis', {
    kind: 'dispute',
    provider: 'stripe',
    account: '',
    providerDisputeId: 'dp_1',
    providerPaymentId: 'pi_dis',
    amountMinor: 2500n,
    currency: 'USD',
    status: 'needs_response',
    reason: 'fraudulent',
    asOf: at('2026-11-03T08:00:00Z'),
  });
  await apply(
    'evt_big',
    pay('pi_big', 'O-BIG', 'succeeded', 9007199254740993n, '2026-11-01T13:00:00Z', { account: 'acct_big' }),
  );
  // The same order number paid on a Connect account: never the platform order's payment.
  await apply(
    'evt_other',
    pay('pi_other', 'O-PAID', 'succeeded', 5n, '2026-11-04T00:00:00Z', { account: 'acct_other' }),
  );
  await apply(
    'evt_wx',
    pay('4200001', 'WX-1', 'pending', 100n, '2026-11-01T14:00:00Z', {
      provider: 'wechatpay',
      account: '1900000001',
      currency: 'CNY',
    }),
  );

  const orders = localOrderRoutes(db.url);
  stopOrders = orders.stop;
  gateway = await startGateway({
    port: 0,
    routes: requireBearerToken(orders.routes, TOKEN, { realm: 'payhooks-orders', tokenName: 'ordersToken' }),
  });
});

afterAll(async () => {
  await gateway?.stop();
  await stopOrders?.();
  await db?.drop();
});

async function get(path: string, token: string | null = TOKEN) {
  const response = await fetch(`${gateway.url}${path}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
}

/** The response against the description's schema for that status (the operation's, under content JSON). */
function problemsAgainstSpec(status: number, body: unknown): string[] {
  const paths = spec.paths as Record<string, Record<string, Record<string, unknown>>>;
  const responses = paths['/orders/{provider}/{account}/{merchantOrderNo}']!.get!.responses as Record<
    string,
    { content: Record<string, { schema: Record<string, unknown> }> }
  >;
  const described = responses[String(status)];
  if (!described) return [`status ${status} is not described`];
  return validate(spec, described.content['application/json']!.schema, body);
}

describe('GET /orders/{provider}/{account}/{merchantOrderNo} on the local gateway', () => {
  it('a paid order: expected and paid as decimal strings, its payment, no anomaly, last event time', async () => {
    const { status, body, text } = await get('/orders/stripe/platform/O-PAID');
    expect(status).toBe(200);
    expect(problemsAgainstSpec(status, body)).toEqual([]);
    expect(body).toMatchObject({
      provider: 'stripe',
      account: 'platform',
      merchantOrderNo: 'O-PAID',
      status: 'paid',
      currency: 'USD',
      amountExpectedMinor: '1999',
      amountPaidMinor: '1999',
      amountRefundedMinor: '0',
      refunds: [],
      disputes: [],
      openAnomalies: [],
      lastEventAt: '2026-11-01T10:00:00.000Z',
    });
    // Only the platform's payment: the Connect account's payment with the same number is not this order's.
    expect(body.payments).toEqual([
      {
        providerPaymentId: 'pi_paid',
        status: 'succeeded',
        amountMinor: '1999',
        currency: 'USD',
        succeededAt: '2026-11-01T10:00:00.000Z',
        updatedAt: '2026-11-01T10:00:00.000Z',
      },
    ]);
    // No amount anywhere in the body is a JSON number.
    expect(text).not.toMatch(/"amount\w*":\s*\d/i);
  });

  it('a partially paid order carries its open amount anomaly', async () => {
    const { status, body } = await get('/orders/stripe/platform/O-PART');
    expect(status).toBe(200);
    expect(problemsAgainstSpec(status, body)).toEqual([]);
    expect(body).toMatchObject({
      status: 'partially_paid',
      amountExpectedMinor: '5000',
      amountPaidMinor: '3000',
    });
    expect(body.openAnomalies).toEqual([
      expect.objectContaining({
        kind: 'amount_mismatch',
        providerPaymentId: 'pi_part',
        expectedAmountMinor: '5000',
        actualAmountMinor: '3000',
        eventId: 'evt_part',
      }),
    ]);
  });

  it('a corrected order closes the anomaly: the merchant now expects what was paid', async () => {
    await recordMerchantOrders(db.sql, 'stripe', [
      { merchantOrderNo: 'O-PART', amountMinor: 3000n, currency: 'USD', account: 'platform' },
    ]);
    const { body } = await get('/orders/stripe/platform/O-PART');
    expect(body).toMatchObject({ status: 'paid', amountExpectedMinor: '3000', openAnomalies: [] });
  });

  it('a refunded order: refunds listed, refunded amount, last event time is the refund', async () => {
    const { status, body } = await get('/orders/stripe/platform/O-REFUND');
    expect(status).toBe(200);
    expect(problemsAgainstSpec(status, body)).toEqual([]);
    expect(body).toMatchObject({
      status: 'refunded',
      amountPaidMinor: '1000',
      amountRefundedMinor: '1000',
      refunds: [expect.objectContaining({ providerRefundId: 're_1', providerPaymentId: 'pi_ref' })],
      lastEventAt: '2026-11-02T09:00:00.000Z',
    });
  });

  it('a disputed order: the open dispute wins over paid', async () => {
    const { status, body } = await get('/orders/stripe/platform/O-DISPUTE');
    expect(status).toBe(200);
    expect(problemsAgainstSpec(status, body)).toEqual([]);
    expect(body).toMatchObject({
      status: 'disputed',
      amountPaidMinor: '2500',
      disputes: [
        expect.objectContaining({
          providerDisputeId: 'dp_1',
          status: 'needs_response',
          reason: 'fraudulent',
        }),
      ],
    });
  });

  it('an order with no payment is unpaid; a WeChat Pay order of the only merchant is found by mchid', async () => {
    const unpaid = await get('/orders/stripe/platform/O-UNPAID');
    expect(unpaid.body).toMatchObject({
      status: 'unpaid',
      amountPaidMinor: '0',
      payments: [],
      lastEventAt: null,
    });
    expect(problemsAgainstSpec(unpaid.status, unpaid.body)).toEqual([]);
    const wx = await get('/orders/wechatpay/1900000001/WX-1');
    expect(wx.body).toMatchObject({ status: 'pending', currency: 'CNY', amountExpectedMinor: '100' });
  });

  it('amounts beyond 2^53 minor units survive exactly', async () => {
    const { body, text } = await get('/orders/stripe/acct_big/O-BIG');
    expect(body).toMatchObject({ status: 'paid', amountPaidMinor: '9007199254740993' });
    expect(text).toContain('"amountExpectedMinor":"9007199254740993"');
  });

  it('an unknown order is 404, an unknown provider 400, both described', async () => {
    const unknown = await get('/orders/stripe/platform/NO-SUCH-ORDER');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('ORDER_NOT_FOUND');
    expect(problemsAgainstSpec(404, unknown.body)).toEqual([]);
    // The platform order is not another account's.
    expect((await get('/orders/stripe/acct_nobody/O-UNPAID')).status).toBe(404);

    const wrong = await get('/orders/paypal/platform/O-PAID');
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe('ORDER_UNKNOWN_PROVIDER');
    expect(problemsAgainstSpec(400, wrong.body)).toEqual([]);
  });

  it('refuses a request without the token or with a wrong one (401), before any lookup', async () => {
    for (const token of [null, 'x', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const refused = await get('/orders/stripe/platform/O-PAID', token);
      expect(refused.status).toBe(401);
      expect(refused.text).not.toContain('1999');
      expect(problemsAgainstSpec(401, refused.body)).toEqual([]);
    }
  });

  it('serves its own OpenAPI description', async () => {
    const response = await fetch(`${gateway.url}/orders/openapi.yaml`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/yaml/);
    expect(parse(await response.text())).toEqual(spec);
  });
});

describe('the read-only role the orders routes read through', () => {
  it('is the role the gateway routes use: without its grant the lookup fails', async () => {
    await db.sql`revoke select on merchant_orders from ${db.sql(DATABASE_ROLES.readonly)}`;
    try {
      expect((await get('/orders/stripe/platform/O-PAID')).status).toBe(500);
    } finally {
      await db.sql`grant select on merchant_orders to ${db.sql(DATABASE_ROLES.readonly)}`;
    }
    expect((await get('/orders/stripe/platform/O-PAID')).status).toBe(200);
  });

  it('runs the session as payhooks_readonly: reads work, writes are refused', async () => {
    const readonly = createSql({ url: db.url, max: 1, role: DATABASE_ROLES.readonly });
    try {
      const [row] = await readonly`select current_user as role, count(*)::int as n from merchant_orders`;
      expect(row).toEqual({ role: DATABASE_ROLES.readonly, n: 7 });
      await expect(readonly`delete from merchant_orders`).rejects.toMatchObject({ code: '42501' });
    } finally {
      await readonly.end();
    }
  });
});
