// Every statement the operations API sends can be answered from an index: the statements are captured as the API
// issues them (postgres.js debug hook) and EXPLAINed over 20,000 events and payments: a sequential scan, or an index
// read by provider alone, means no index fits (dropping an index of migration 0017-consoleops makes this fail).
import { createSql } from '@payhooks/core/ledger';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEventDetail, searchEvents } from '../src/api/ops/events.ts';
import { lagByHour } from '../src/api/ops/lag.ts';
import { queueDepthHistory } from '../src/api/ops/queues.ts';

let db: TestDatabase;
let captured: { query: string; parameters: unknown[] }[] = [];
let traced: postgres.Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  traced = postgres(db.url, {
    max: 1,
    prepare: false,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    debug: (_connection, query, parameters) => {
      captured.push({ query, parameters: parameters as unknown[] });
    },
  });
  // Enough rows for the planner to prefer an index where one fits (on a tiny table a scan is cheaper).
  await db.sql`
    insert into inbox_events (provider, event_id, event_type, account, occurred_at, received_at, applied_at,
      outcome, raw_payload)
    select case when i % 2 = 0 then 'stripe' else 'wechatpay' end, 'evt_' || i, 'payment_intent.succeeded', '',
      now() - i * interval '1 second', now() - i * interval '1 second', now() - i * interval '1 second', 'applied',
      '{"id":"evt_' || i || '","data":{"object":{"id":"pi_' || i || '","object":"payment_intent"}}}'
    from generate_series(1, 20000) i`;
  await db.sql`
    insert into payments (provider, provider_payment_id, account, merchant_order_no, amount_minor, currency, status,
      status_rank, first_seen_at, updated_at, last_event_id, version)
    select case when i % 2 = 0 then 'stripe' else 'wechatpay' end, 'pi_' || i, '', 'ORD-' || i, 100, 'USD',
      'succeeded', 60, now(), now(), 'evt_' || i, '1'
    from generate_series(1, 20000) i`;
  await db.sql`
    insert into refunds (provider, provider_refund_id, provider_payment_id, account, merchant_order_no, amount_minor,
      currency, status, status_rank, first_seen_at, updated_at, last_event_id, version)
    select case when i % 2 = 0 then 'stripe' else 'wechatpay' end, 're_' || i, 'pi_' || i, '', 'ORD-' || i, 50,
      'USD', 'succeeded', 60, now(), now(), 'evt_' || i, '1'
    from generate_series(1, 20000, 3) i`;
  await db.sql`
    insert into disputes (provider, provider_dispute_id, provider_payment_id, account, amount_minor, currency,
      status, status_rank, first_seen_at, updated_at, last_event_id, version)
    select 'stripe', 'dp_' || i, 'pi_' || i, '', 100, 'USD', 'needs_response', 30, now(), now(), 'evt_' || i, '1'
    from generate_series(2, 20000, 10) i`;
  await db.sql`
    insert into merchant_orders (provider, account, merchant_order_no, amount_minor, currency)
    select case when i % 2 = 0 then 'stripe' else 'wechatpay' end, case when i % 2 = 0 then 'platform' else '' end,
      'ORD-' || i, 100, 'USD'
    from generate_series(1, 20000) i`;
  await db.sql`analyze`;
});

afterAll(async () => {
  await traced?.end();
  await db?.drop();
});

const SEEDED = new Set(['inbox_events', 'payments', 'refunds', 'disputes', 'merchant_orders']);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Schema?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

/**
 * Table reads that are not an index lookup: a sequential scan, or an index walked whole or by provider alone.
 */
function unindexedReads(node: PlanNode, out: string[]): void {
  const type = node['Node Type'];
  // Tables left empty here (mirrors, anomalies) are scanned because they are empty; their lookups are by key.
  if (type === 'Seq Scan' && node.Schema === 'public' && SEEDED.has(node['Relation Name'] ?? ''))
    out.push(`Seq Scan on ${node['Relation Name']}`);
  if (type === 'Index Scan' || type === 'Index Only Scan' || type === 'Bitmap Index Scan') {
    const terms = (node['Index Cond'] ?? '').replace(/[()]/g, '').split(' AND ').filter(Boolean);
    // Only `provider = …` narrows nothing (two providers): as good as reading the whole table.
    if (terms.every((t) => /^\w*\.?provider\s*=/.test(t.trim())))
      out.push(
        `${type} of ${node['Index Name']} without a selective condition (${node['Index Cond'] ?? 'none'})`,
      );
  }
  for (const child of node.Plans ?? []) unindexedReads(child, out);
}

async function tableScans(): Promise<string[]> {
  const scans: string[] = [];
  const sql = createSql({ url: db.url, max: 1 });
  try {
    for (const { query, parameters } of captured) {
      // Our statements only (postgres.js's own type lookup reads pg_catalog once per connection).
      if (!/^\s*(with|select)/i.test(query) || query.includes('pg_catalog')) continue;
      const plan = await sql.begin(async (tx) => {
        return tx.unsafe(`explain (format json, verbose) ${query}`, parameters as never[]);
      });
      const root = (Object.values(plan[0]!)[0] as { Plan: PlanNode }[])[0]!.Plan;
      const found: string[] = [];
      unindexedReads(root, found);
      for (const f of found) scans.push(`${f} in: ${query.replace(/\s+/g, ' ').slice(0, 100)}`);
    }
  } finally {
    await sql.end();
  }
  return scans;
}

describe('operations queries use indexes', () => {
  it('search by id or order, by time range with a cursor, detail, lag and queue depth', async () => {
    captured = [];
    const sql = traced as unknown as Parameters<typeof searchEvents>[0];
    await searchEvents(sql, { q: 'pi_2' });
    await searchEvents(sql, { q: 'ORD-4', provider: 'stripe' });
    const since = new Date(Date.now() - 600_000);
    await searchEvents(sql, { from: since, to: new Date(), cursor: `${Date.now() * 1000}.99`, limit: 10 });
    await getEventDetail(sql, 'stripe', 'evt_2', { rawBody: true });
    await getEventDetail(sql, 'wechatpay', 'evt_1', { rawBody: false });
    await lagByHour(sql, since);
    await queueDepthHistory(sql, since);
    expect(captured.length).toBeGreaterThan(8);
    expect(await tableScans()).toEqual([]);
  });
});
