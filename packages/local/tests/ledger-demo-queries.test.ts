// The ledger functions the demo seeds and reads through, on real PostgreSQL: recordMerchantOrders writes the
// merchant's orders in one upsert (the last entry of a key wins), listSettled returns exactly the succeeded
// payments and refunds of the asked accounts inside the half-open window.
import { listSettled, recordMerchantOrders } from '@payhooks/core/ledger';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

describe('recordMerchantOrders', () => {
  it('inserts, then updates amount and currency of the same order; an order given twice keeps its last entry', async () => {
    const written = await recordMerchantOrders(db.sql, 'wechatpay', [
      { merchantOrderNo: 'MO-1', amountMinor: 100n, currency: 'CNY' },
      { merchantOrderNo: 'MO-2', amountMinor: 200n, currency: 'CNY', account: '1900000109' },
      { merchantOrderNo: 'MO-1', amountMinor: 150n, currency: 'CNY' },
    ]);
    expect(written).toBe(2);
    await recordMerchantOrders(db.sql, 'wechatpay', [
      { merchantOrderNo: 'MO-2', amountMinor: 250n, currency: 'HKD', account: '1900000109' },
    ]);
    expect(await recordMerchantOrders(db.sql, 'wechatpay', [])).toBe(0);
    const rows = await db.sql`select account, merchant_order_no, amount_minor, trim(currency) as currency
      from merchant_orders where provider = 'wechatpay' order by merchant_order_no`;
    expect(rows).toEqual([
      { account: '', merchant_order_no: 'MO-1', amount_minor: 150n, currency: 'CNY' },
      { account: '1900000109', merchant_order_no: 'MO-2', amount_minor: 250n, currency: 'HKD' },
    ]);
  });
});

describe('listSettled', () => {
  it('returns the succeeded payments and refunds of the accounts with start <= succeeded_at < end', async () => {
    const start = new Date('2026-03-01T00:00:00Z');
    const end = new Date('2026-03-02T00:00:00Z');
    const payment = (id: string, account: string, status: string, at: string) => db.sql`
      insert into payments (provider, provider_payment_id, account, merchant_order_no, amount_minor, currency, status,
        status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
      values ('stripe', ${id}, ${account}, ${`ORD-${id}`}, 1000, 'usd', ${status}, 1, ${at}, ${at}, ${at}, 'evt', 'v')`;
    await payment('pi_in', '', 'succeeded', '2026-03-01T00:00:00Z');
    await payment('pi_connect', 'acct_1', 'succeeded', '2026-03-01T12:00:00Z');
    await payment('pi_other_account', 'acct_2', 'succeeded', '2026-03-01T12:00:00Z');
    await payment('pi_end', '', 'succeeded', '2026-03-02T00:00:00Z');
    await payment('pi_failed', '', 'failed', '2026-03-01T12:00:00Z');
    await db.sql`insert into refunds (provider, provider_refund_id, provider_payment_id, account, merchant_refund_no,
        amount_minor, currency, status, status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
      values ('stripe', 're_in', 'pi_in', '', 'RF-1', 300, 'usd', 'succeeded', 1, ${start}, ${start}, ${start}, 'evt', 'v'),
        ('stripe', 're_pending', 'pi_in', '', null, 200, 'usd', 'pending', 0, ${start}, null, ${start}, 'evt', 'v')`;

    const settled = await listSettled(db.sql, 'stripe', ['', 'acct_1'], { start, end });
    expect(settled.payments.map((p) => p.id).sort()).toEqual(['pi_connect', 'pi_in']);
    expect(settled.payments.find((p) => p.id === 'pi_in')).toEqual({
      id: 'pi_in',
      account: '',
      orderNo: 'ORD-pi_in',
      amountMinor: 1000n,
      currency: 'usd',
      succeededAt: start,
    });
    expect(settled.refunds).toEqual([
      {
        id: 're_in',
        paymentId: 'pi_in',
        account: '',
        refundNo: 'RF-1',
        amountMinor: 300n,
        currency: 'usd',
        succeededAt: start,
      },
    ]);
  });
});
