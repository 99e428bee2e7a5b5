// Case 8 — the order-status API warm on the local stack: GET /orders/stripe/platform/{order} with the bearer token,
// keep-alive, concurrency 16, against a ledger of 1,000,000 payments (each with its merchant order; 5 % refunded,
// 0.5 % disputed, 1 % with an amount anomaly), seeded by generate_series in a few statements and analyzed. The
// stack is `startLocalStack` (gateway → the shipped handler → getOrderStatus through the read-only role, a pool of
// 4 connections). Baseline: the very statement the handler runs (orderStatusStatement), issued directly through
// postgres.js on a pool of the same size by 16 concurrent callers — so the ratio is what HTTP, the gateway's event,
// the handler and JSON add to the query; a bare 204 server would measure HTTP alone and hide the query's cost.
// Before timing, EXPLAIN (format json) of the statement must show no Seq Scan on the ledger tables; its plan
// nodes are in the details.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  createSql,
  DATABASE_ROLES,
  type OrderKey,
  orderStatusStatement,
  type Sql,
} from '@payhooks/core/ledger';
import { startLocalStack } from '@payhooks/local/stack';
import { runLoad } from '../load.ts';
import { ledgerDatabases } from '../postgres.ts';
import { pick } from '../sizes.ts';
import { now, pairedRow, percentile, ratioAtLeast, ratioAtMost, settle } from '../stats.ts';
import type { CaseOptions, CaseResult } from '../types.ts';

const CONCURRENCY = 16;
/** The local stack's orders pool (packages/local/src/orders.ts); the baseline uses the same. */
const POOL = 4;
/** Tables whose scan would grow with the ledger: the plan must reach each through an index. */
const LEDGER_TABLES = ['merchant_orders', 'payments', 'refunds', 'disputes', 'payment_anomalies'];
const BIG_TABLE_ROWS = 1000;

/** One statement per table, all from generate_series: seconds for a million rows, nothing through JS. */
async function seedLedger(sql: Sql, payments: number): Promise<void> {
  await sql.unsafe(`
    insert into merchant_orders (provider, account, merchant_order_no, amount_minor, currency)
    select 'stripe', 'platform', 'O-' || i, 1000 + i % 5000, 'USD' from generate_series(1, ${payments}) i`);
  await sql.unsafe(`
    insert into payments (provider, provider_payment_id, account, merchant_order_no, amount_minor, currency, status,
      status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
    select 'stripe', 'pi_' || i, '', 'O-' || i,
      case when i % 100 = 7 then 999 else 1000 + i % 5000 end, 'USD', 'succeeded', 100,
      t, t, t, 'evt_' || i, '1:' || lpad((extract(epoch from t) * 1000)::bigint::text, 15, '0') || ':100:evt_' || i
    from generate_series(1, ${payments}) i, lateral (select timestamptz '2026-01-01' + i * interval '1 second') s(t)`);
  await sql.unsafe(`
    insert into refunds (provider, provider_refund_id, provider_payment_id, account, merchant_order_no, amount_minor,
      currency, status, status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
    select 'stripe', 're_' || i, 'pi_' || i, '', 'O-' || i, 500, 'USD', 'succeeded', 90, t, t, t, 'evt_re_' || i, 'v'
    from generate_series(20, ${payments}, 20) i,
      lateral (select timestamptz '2026-02-01' + i * interval '1 second') s(t)`);
  await sql.unsafe(`
    insert into disputes (provider, provider_dispute_id, provider_payment_id, account, amount_minor, currency, status,
      status_rank, reason, first_seen_at, updated_at, last_event_id, version)
    select 'stripe', 'dp_' || i, 'pi_' || i, '', 1000 + i % 5000, 'USD', 'needs_response', 30, 'fraudulent', t, t,
      'evt_dp_' || i, 'v'
    from generate_series(200, ${payments}, 200) i,
      lateral (select timestamptz '2026-03-01' + i * interval '1 second') s(t)`);
  await sql.unsafe(`
    insert into payment_anomalies (provider, provider_payment_id, merchant_order_no, kind, expected_amount_minor,
      expected_currency, actual_amount_minor, actual_currency, event_id)
    select 'stripe', 'pi_' || i, 'O-' || i, 'amount_mismatch', 1000 + i % 5000, 'USD', 999, 'USD', 'evt_' || i
    from generate_series(7, ${payments}, 100) i`);
  await sql.unsafe('vacuum analyze merchant_orders, payments, refunds, disputes, payment_anomalies');
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function planNodes(node: PlanNode, out: { node: string; relation?: string; index?: string }[] = []) {
  out.push({
    node: node['Node Type'],
    ...(node['Relation Name'] ? { relation: node['Relation Name'] } : {}),
    ...(node['Index Name'] ? { index: node['Index Name'] } : {}),
  });
  for (const child of node.Plans ?? []) planNodes(child, out);
  return out;
}

/** Deterministic order numbers spread over the whole ledger (xorshift, so runs repeat). */
function orderNumbers(count: number, payments: number): number[] {
  let x = 0x9e3779b9;
  return Array.from({ length: count }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % payments) + 1;
  });
}

const keyOf = (n: number): OrderKey => ({
  provider: 'stripe',
  account: 'platform',
  merchantOrderNo: `O-${n}`,
});

/** The baseline: 16 callers, each issuing the statement for its next order as soon as the last one answered. */
async function runDirect(sql: Sql, orders: readonly number[], total: number) {
  const latencies = new Float64Array(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const started = now();
      const rows = await orderStatusStatement(sql, keyOf(orders[i % orders.length]!));
      if (rows.length !== 1) throw new Error('order-status statement returned no row');
      latencies[i] = now() - started;
    }
  };
  const started = now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (now() - started) / 1000;
  const all = Array.from(latencies);
  return { requestsPerSecond: total / seconds, p50Ms: percentile(all, 50), p99Ms: percentile(all, 99) };
}

export async function runOrderStatus(options: CaseOptions): Promise<CaseResult> {
  const started = now();
  const size = pick(options, {
    full: { payments: 1_000_000, total: 20_000, warmup: 4_000, reps: 3 },
    quick: { payments: 100_000, total: 5_000, warmup: 1_000, reps: 2 },
    tiny: { payments: 2_000, total: 400, warmup: 100, reps: 1 },
  });
  const databases = await ledgerDatabases(options.pgAdminUrl);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'payhooks-bench-orders-'));
  const token = randomBytes(24).toString('base64url');
  try {
    const databaseUrl = await databases.fresh();
    const owner = createSql({ url: databaseUrl, max: 1, applicationName: 'bench-seed' });
    const seedStarted = now();
    try {
      await seedLedger(owner, size.payments);
    } finally {
      await owner.end();
    }
    const seedSeconds = (now() - seedStarted) / 1000;
    options.log(`case 8: seeded ${size.payments} payments with orders in ${seedSeconds.toFixed(1)} s`);

    const direct = createSql({
      url: databaseUrl,
      max: POOL,
      role: DATABASE_ROLES.readonly,
      applicationName: 'bench-orders-direct',
    });
    const stack = await startLocalStack({
      stateDir: path.join(dir, 'stack'),
      port: 0,
      databaseUrl,
      stripeWebhookSecrets: [`whsec_${randomBytes(16).toString('hex')}`],
      ordersToken: token,
      persistQueues: false,
      notice: () => {},
    });
    try {
      const [explained] = await direct`explain (format json) ${orderStatusStatement(direct, keyOf(1))}`;
      const plan = planNodes((explained!['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
      // Below BIG_TABLE_ROWS a sequential scan is the planner's right choice (tiny sizes); above, a missing index.
      const sizes = await direct<{ relname: string; rows: number }[]>`
        select relname, reltuples::float8 as rows from pg_class where relname in ${direct(LEDGER_TABLES)}`;
      const big = new Set(sizes.filter((t) => t.rows >= BIG_TABLE_ROWS).map((t) => t.relname));
      const scanned = plan.filter((n) => n.node === 'Seq Scan' && big.has(n.relation ?? ''));
      if (scanned.length > 0)
        throw new Error(
          `order-status plan scans ${scanned.map((n) => n.relation).join(', ')}: an index is missing`,
        );

      const orders = orderNumbers(Math.min(size.total, 50_000), size.payments);
      const requests = orders.map((n) => ({
        path: `/orders/stripe/platform/O-${n}`,
        headers: { authorization: `Bearer ${token}` },
        body: '',
      }));
      const api = (total: number) =>
        runLoad({
          url: stack.gatewayUrl,
          requests,
          total,
          concurrency: CONCURRENCY,
          expectStatus: 200,
          method: 'GET',
        });
      // Warm: the handler's connections, the plan cache of each backend, the index pages in shared buffers.
      await api(size.warmup);
      await runDirect(direct, orders, size.warmup);
      const runs: { api: Awaited<ReturnType<typeof api>>; direct: Awaited<ReturnType<typeof runDirect>> }[] =
        [];
      for (let r = 0; r < size.reps; r++) {
        await settle();
        // Alternate which side goes first, so neither always meets the warmer machine.
        let a: Awaited<ReturnType<typeof api>>;
        let d: Awaited<ReturnType<typeof runDirect>>;
        if (r % 2 === 0) {
          a = await api(size.total);
          await settle();
          d = await runDirect(direct, orders, size.total);
        } else {
          d = await runDirect(direct, orders, size.total);
          await settle();
          a = await api(size.total);
        }
        runs.push({ api: a, direct: d });
        options.log(
          `case 8 rep ${r + 1}: API p50 ${a.p50Ms.toFixed(2)} ms p99 ${a.p99Ms.toFixed(2)} ms ${Math.round(a.requestsPerSecond)} req/s; ` +
            `statement p50 ${d.p50Ms.toFixed(2)} ms p99 ${d.p99Ms.toFixed(2)} ms ${Math.round(d.requestsPerSecond)}/s`,
        );
      }
      const pairs = (get: (side: { p50Ms: number; p99Ms: number; requestsPerSecond: number }) => number) =>
        runs.map((run) => ({ measured: get(run.api), baseline: get(run.direct) }));
      return {
        case: 8,
        title: `order-status API on the local stack, ${size.payments.toLocaleString('en')} payments, c=${CONCURRENCY}`,
        measuredIncludes:
          'keep-alive GET /orders/stripe/platform/{order} with the bearer token → local gateway (API Gateway v2 ' +
          'event) → shipped orders handler → getOrderStatus (one statement, read-only role, pool of 4) → JSON body',
        baselineIncludes:
          'the same statement (orderStatusStatement) for the same orders through postgres.js, read-only role, pool ' +
          'of 4, 16 concurrent callers; no HTTP, no handler, no JSON',
        rows: [
          pairedRow(
            '8 order status p50',
            'ms',
            pairs((s) => s.p50Ms),
            null,
            'ratio = API/statement (lower is better)',
          ),
          pairedRow(
            '8 order status p99',
            'ms',
            pairs((s) => s.p99Ms),
            ratioAtMost(3),
            'ratio = API/statement',
          ),
          pairedRow(
            '8 order status req/s',
            'req/s',
            pairs((s) => s.requestsPerSecond),
            ratioAtLeast(0.4),
          ),
        ],
        details: {
          payments: size.payments,
          seedSeconds,
          requestsPerRep: size.total,
          concurrency: CONCURRENCY,
          pool: POOL,
          plan,
          tableRows: Object.fromEntries(sizes.map((t) => [t.relname, t.rows])),
          seqScansOnBigTables: scanned.length,
          runs,
        },
        durationMs: now() - started,
      };
    } finally {
      await direct.end();
      await stack.stop();
    }
  } finally {
    await databases.dropAll();
    await rm(dir, { recursive: true, force: true });
  }
}
