// Writes ledger changes. Each table keeps, per object, the snapshot with the highest version (see status.ts):
// `max` is order-independent, so any permutation and duplication of the same events converges to one state.
// Columns that summarise history (first seen, succeeded at) merge with least(), which is order-independent too.
import { MIRROR } from '../providers/stripe/mirror.ts';
import type {
  DisputeChange,
  LedgerChange,
  ObjectSnapshotChange,
  PaymentChange,
  RefundChange,
} from './changes.ts';
import type { Tx } from './db.ts';
import { DISPUTE_ORDER, orderOf, PAYMENT_ORDER, REFUND_ORDER, versionOf } from './status.ts';

/** `insert … on conflict do update` that replaces `replaced` only for a newer version and merges `merged`. */
function upsertStatement(
  table: string,
  key: string[],
  replaced: string[],
  merged: Record<string, string>,
): string {
  const columns = [...key, ...replaced, ...Object.keys(merged), 'version'];
  const placeholders = columns.map((_, i) => `$${i + 1}`);
  const newer = `excluded.version > ${table}.version`;
  const assignments = [
    ...[...replaced, 'version'].map(
      (c) => `${c} = case when ${newer} then excluded.${c} else ${table}.${c} end`,
    ),
    ...Object.entries(merged).map(([c, fn]) => `${c} = ${fn}(${table}.${c}, excluded.${c})`),
  ];
  return `insert into ${table} (${columns.join(', ')}) values (${placeholders.join(', ')})
    on conflict (${key.join(', ')}) do update set ${assignments.join(', ')}`;
}

const PAYMENT_SQL = upsertStatement(
  'payments',
  ['provider', 'provider_payment_id'],
  [
    'account',
    'merchant_order_no',
    'amount_minor',
    'currency',
    'status',
    'status_rank',
    'updated_at',
    'last_event_id',
  ],
  { first_seen_at: 'least', succeeded_at: 'least' },
);

const REFUND_SQL = upsertStatement(
  'refunds',
  ['provider', 'provider_refund_id'],
  [
    'provider_payment_id',
    'account',
    'merchant_refund_no',
    'merchant_order_no',
    'amount_minor',
    'currency',
    'status',
    'status_rank',
    'updated_at',
    'last_event_id',
  ],
  { first_seen_at: 'least', succeeded_at: 'least' },
);

const DISPUTE_SQL = upsertStatement(
  'disputes',
  ['provider', 'provider_dispute_id'],
  [
    'provider_payment_id',
    'account',
    'amount_minor',
    'currency',
    'status',
    'status_rank',
    'reason',
    'updated_at',
    'last_event_id',
  ],
  { first_seen_at: 'least' },
);

const MIRROR_SQL = new Map(
  Object.values(MIRROR).map((spec) => [
    spec.table,
    upsertStatement(
      `stripe.${spec.table}`,
      ['id'],
      ['account', 'status', 'deleted', 'data', 'updated_at', 'last_event_id'],
      {
        first_seen_at: 'least',
      },
    ),
  ]),
);

/** A payment whose amount or currency differs from the merchant's own order; recorded, never dropped. */
export interface Anomaly {
  kind: 'amount_mismatch' | 'currency_mismatch';
  providerPaymentId: string;
  merchantOrderNo: string;
}

export interface ApplyResult {
  anomalies: Anomaly[];
}

async function applyPayment(
  tx: Tx,
  change: PaymentChange,
  eventId: string,
  result: ApplyResult,
): Promise<void> {
  const order = orderOf(PAYMENT_ORDER, change.status, 'payment');
  const succeededAt = change.status === 'succeeded' ? (change.succeededAt ?? change.asOf) : null;
  await tx.unsafe(PAYMENT_SQL, [
    change.provider,
    change.providerPaymentId,
    change.account,
    change.merchantOrderNo,
    change.amountMinor.toString(),
    change.currency,
    change.status,
    order.rank,
    change.asOf,
    eventId,
    change.asOf,
    succeededAt,
    versionOf(order, change.asOf, eventId),
  ]);
  if (change.status === 'succeeded' && change.merchantOrderNo)
    await checkMerchantOrder(tx, change, eventId, result);
}

async function checkMerchantOrder(
  tx: Tx,
  change: PaymentChange,
  eventId: string,
  result: ApplyResult,
): Promise<void> {
  // The account's own order first; an order recorded without an account applies to any account.
  const found = await tx.unsafe<{ amount_minor: bigint; currency: string }[]>(
    `select amount_minor, currency from merchant_orders
     where provider = $1 and merchant_order_no = $2 and account in ($3, '')
     order by account desc limit 1`,
    [change.provider, change.merchantOrderNo, change.account],
  );
  const expected = found[0];
  if (!expected) return;
  const kinds: Anomaly['kind'][] = [];
  if (expected.amount_minor !== change.amountMinor) kinds.push('amount_mismatch');
  if (expected.currency.trim() !== change.currency) kinds.push('currency_mismatch');
  for (const kind of kinds) {
    const inserted = await tx.unsafe(
      `insert into payment_anomalies (provider, provider_payment_id, merchant_order_no, kind, expected_amount_minor,
         expected_currency, actual_amount_minor, actual_currency, event_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict do nothing returning id`,
      [
        change.provider,
        change.providerPaymentId,
        change.merchantOrderNo,
        kind,
        expected.amount_minor.toString(),
        expected.currency,
        change.amountMinor.toString(),
        change.currency,
        eventId,
      ],
    );
    if (inserted.length > 0) {
      result.anomalies.push({
        kind,
        providerPaymentId: change.providerPaymentId,
        merchantOrderNo: change.merchantOrderNo!,
      });
    }
  }
}

async function applyRefund(tx: Tx, change: RefundChange, eventId: string): Promise<void> {
  const order = orderOf(REFUND_ORDER, change.status, 'refund');
  await tx.unsafe(REFUND_SQL, [
    change.provider,
    change.providerRefundId,
    change.providerPaymentId,
    change.account,
    change.merchantRefundNo,
    change.merchantOrderNo,
    change.amountMinor.toString(),
    change.currency,
    change.status,
    order.rank,
    change.asOf,
    eventId,
    change.asOf,
    change.status === 'succeeded' ? (change.succeededAt ?? change.asOf) : null,
    versionOf(order, change.asOf, eventId),
  ]);
}

async function applyDispute(tx: Tx, change: DisputeChange, eventId: string): Promise<void> {
  const order = orderOf(DISPUTE_ORDER, change.status, 'dispute');
  await tx.unsafe(DISPUTE_SQL, [
    change.provider,
    change.providerDisputeId,
    change.providerPaymentId,
    change.account,
    change.amountMinor.toString(),
    change.currency,
    change.status,
    order.rank,
    change.reason,
    change.asOf,
    eventId,
    change.asOf,
    versionOf(order, change.asOf, eventId),
  ]);
}

async function applyObject(tx: Tx, change: ObjectSnapshotChange, eventId: string): Promise<void> {
  const spec = MIRROR[change.objectType];
  const statement = spec && MIRROR_SQL.get(spec.table);
  if (!spec || !statement) throw new Error(`no mirror table for ${change.provider} ${change.objectType}`);
  const order = orderOf(spec.statuses, change.orderKey ?? change.status ?? '', change.objectType);
  await tx.unsafe(statement, [
    change.objectId,
    change.account,
    change.status,
    change.deleted,
    tx.json(change.snapshot as never),
    change.asOf,
    eventId,
    change.asOf,
    versionOf(order, change.asOf, eventId),
  ]);
}

export async function applyChanges(
  tx: Tx,
  changes: readonly LedgerChange[],
  eventId: string,
): Promise<ApplyResult> {
  const result: ApplyResult = { anomalies: [] };
  for (const change of changes) {
    switch (change.kind) {
      case 'payment':
        await applyPayment(tx, change, eventId, result);
        break;
      case 'refund':
        await applyRefund(tx, change, eventId);
        break;
      case 'dispute':
        await applyDispute(tx, change, eventId);
        break;
      case 'object':
        await applyObject(tx, change, eventId);
        break;
    }
  }
  return result;
}
