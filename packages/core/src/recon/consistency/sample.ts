// Consistency sampling: between nightly reconciliations, a few recently changed ledger objects per provider and
// account are fetched from the provider's API and compared with the ledger (payments, refunds) and the mirror
// (`stripe.*`, `wechatpay.*`). The drift rate is the share of sampled objects whose provider state differs; above
// the threshold the drifted objects are resynced through the normal queue path — the provider's answer as an
// envelope (the reconciliation healers build them: Stripe synthetic events, WeChat Pay re-encrypted
// notifications), applied by the consumer like any callback. Comparison runs the consumer's own normalizer on that
// envelope, so "what the provider holds" is said in the ledger's vocabulary by the code that would apply it.
import { type ClaimStore, type Envelope, enqueueEnvelope } from '../../envelope.ts';
import type { EnvelopeNormalizer } from '../../ledger/apply-envelopes.ts';
import type { LedgerChange, Provider } from '../../ledger/changes.ts';
import type { Sql } from '../../ledger/db.ts';
import { mirrorSpecFor } from '../../ledger/mirrors.ts';
import { errorFields } from '../../logger.ts';
import type { Clock, Logger, Queue } from '../../ports.ts';
import type { HealCandidate, Healer } from '../run/types.ts';

export const CONSISTENCY_DEFAULTS = {
  /** Objects sampled per provider and account and run. */
  sampleSize: 100,
  /** "Recently changed": updated in the ledger within this many hours (the schedule's period). */
  windowHours: 6,
  /** Drift rate (percent of the sample) above which drifted objects are resynced. */
  resyncAbovePercent: 0.5,
} as const;

export interface ConsistencyDeps {
  sql: Sql;
  queue: Queue;
  /** The claim-check store for resync envelopes that exceed one queue message. */
  claims?: ClaimStore | undefined;
  clock: Clock;
  logger: Logger;
  /** The consumer's normalizer for the provider (decrypts and normalizes exactly as the consumer will). */
  normalizer: EnvelopeNormalizer;
  /** The provider's current state of one account's objects, as envelopes; undefined: the account is not configured. */
  fetcherFor(account: string): Healer | undefined;
  sampleSize?: number;
  windowHours?: number;
  resyncAbovePercent?: number;
}

/** Drifted objects named in the sample's log line (the rest are counted). */
const MAX_LOGGED_DRIFTS = 20;

/** One sampled ledger object. */
interface SampledObject {
  kind: 'payment' | 'refund';
  providerPaymentId: string | null;
  providerRefundId: string | null;
  merchantOrderNo: string | null;
  merchantRefundNo: string | null;
  amountMinor: bigint;
  currency: string;
  status: string;
}

export interface DriftedObject {
  kind: 'payment' | 'refund';
  id: string;
  /** What differs, e.g. `ledger status pending, provider succeeded`. */
  differences: string[];
}

export interface ConsistencySample {
  provider: Provider;
  account: string;
  sampled: number;
  /** Objects the provider could not be asked about (not counted in the rate; logged). */
  failed: number;
  drifted: DriftedObject[];
  /** drifted / (sampled − failed), in percent; 0 for an empty sample. */
  driftPercent: number;
  /** Envelopes sent to the queue for the drifted objects (0 at or below the threshold). */
  resynced: number;
}

const objectId = (o: SampledObject) =>
  (o.kind === 'refund' ? o.providerRefundId : o.providerPaymentId) ?? o.merchantOrderNo ?? '';

/** The accounts of a provider with ledger changes in the window. */
export async function recentlyChangedAccounts(sql: Sql, provider: Provider, since: Date): Promise<string[]> {
  const rows = await sql<{ account: string }[]>`
    select account from payments where provider = ${provider} and updated_at >= ${since}
    union
    select account from refunds where provider = ${provider} and updated_at >= ${since}
    order by account`;
  return rows.map((r) => r.account);
}

/** Up to `size` objects of one account changed since `since`, drawn at random (every one when there are fewer). */
async function sampleObjects(
  sql: Sql,
  provider: Provider,
  account: string,
  since: Date,
  size: number,
): Promise<SampledObject[]> {
  const rows = await sql<
    {
      kind: 'payment' | 'refund';
      payment_id: string | null;
      refund_id: string | null;
      order_no: string | null;
      refund_no: string | null;
      amount_minor: bigint;
      currency: string;
      status: string;
    }[]
  >`
    select * from (
      select 'payment' as kind, provider_payment_id as payment_id, null::text as refund_id, merchant_order_no as order_no,
             null::text as refund_no, amount_minor, trim(currency) as currency, status
        from payments where provider = ${provider} and account = ${account} and updated_at >= ${since}
      union all
      select 'refund', provider_payment_id, provider_refund_id, merchant_order_no, merchant_refund_no, amount_minor,
             trim(currency), status
        from refunds where provider = ${provider} and account = ${account} and updated_at >= ${since}
    ) recent order by random() limit ${size}`;
  return rows.map((r) => ({
    kind: r.kind,
    providerPaymentId: r.payment_id,
    providerRefundId: r.refund_id,
    merchantOrderNo: r.order_no,
    merchantRefundNo: r.refund_no,
    amountMinor: BigInt(r.amount_minor),
    currency: r.currency,
    status: r.status,
  }));
}

function candidateOf(o: SampledObject): HealCandidate {
  return {
    class: 'status_mismatch',
    kind: o.kind,
    providerPaymentId: o.providerPaymentId,
    providerRefundId: o.providerRefundId,
    merchantOrderNo: o.merchantOrderNo,
    merchantRefundNo: o.merchantRefundNo,
    payoutId: null,
  };
}

/** The ledger row against the provider's change of the same object. */
function ledgerDifferences(o: SampledObject, change: LedgerChange | undefined): string[] {
  if (!change || (change.kind !== 'payment' && change.kind !== 'refund'))
    return [`the provider's answer says nothing about this ${o.kind}`];
  const out: string[] = [];
  if (change.status !== o.status) out.push(`ledger status ${o.status}, provider ${change.status}`);
  if (change.amountMinor !== o.amountMinor)
    out.push(`ledger amount ${o.amountMinor}, provider ${change.amountMinor}`);
  if (change.currency.trim().toUpperCase() !== o.currency.toUpperCase())
    out.push(`ledger currency ${o.currency}, provider ${change.currency}`);
  return out;
}

/** The mirror's status of each object snapshot in the answer, against the snapshot's. */
async function mirrorDifferences(sql: Sql, provider: Provider, changes: LedgerChange[]): Promise<string[]> {
  const out: string[] = [];
  for (const change of changes) {
    if (change.kind !== 'object') continue;
    const { table } = mirrorSpecFor(provider, change.objectType);
    const [row] = await sql.unsafe<{ status: string | null; deleted: boolean }[]>(
      `select status, deleted from ${table} where id = $1`,
      [change.objectId],
    );
    if (!row) out.push(`${change.objectType} ${change.objectId} not in the mirror`);
    else if ((row.status ?? null) !== (change.status ?? null) || row.deleted !== change.deleted)
      out.push(`mirror ${change.objectType} status ${row.status ?? '-'}, provider ${change.status ?? '-'}`);
  }
  return out;
}

/** Samples one account, compares, and resyncs the drifted objects when the drift rate is above the threshold. */
export async function sampleAccount(
  deps: ConsistencyDeps,
  provider: Provider,
  account: string,
): Promise<ConsistencySample> {
  const size = deps.sampleSize ?? CONSISTENCY_DEFAULTS.sampleSize;
  const since = new Date(
    deps.clock.now().getTime() - (deps.windowHours ?? CONSISTENCY_DEFAULTS.windowHours) * 3_600_000,
  );
  const fetcher = deps.fetcherFor(account);
  const objects = fetcher ? await sampleObjects(deps.sql, provider, account, since, size) : [];
  const drifted: (DriftedObject & { envelopes: Envelope[] })[] = [];
  let failed = 0;
  for (const object of objects) {
    try {
      const envelopes = await fetcher!.envelopes(candidateOf(object));
      const changes: LedgerChange[] = [];
      for (const envelope of envelopes) changes.push(...(await deps.normalizer(envelope)).changes);
      const id = objectId(object);
      const same = changes.find(
        (c) =>
          c.kind === object.kind &&
          (c.kind === 'refund' ? c.providerRefundId : c.kind === 'payment' ? c.providerPaymentId : '') === id,
      );
      const differences = [
        ...ledgerDifferences(object, same),
        ...(await mirrorDifferences(deps.sql, provider, changes)),
      ];
      if (differences.length > 0) drifted.push({ kind: object.kind, id, differences, envelopes });
    } catch (error) {
      failed += 1;
      deps.logger.warn('consistency sample: provider query failed', {
        provider,
        account,
        kind: object.kind,
        id: objectId(object),
        ...errorFields(error),
      });
    }
  }
  const compared = objects.length - failed;
  const driftPercent = compared === 0 ? 0 : (drifted.length / compared) * 100;
  let resynced = 0;
  if (driftPercent > (deps.resyncAbovePercent ?? CONSISTENCY_DEFAULTS.resyncAbovePercent)) {
    for (const object of drifted) {
      for (const envelope of object.envelopes) {
        await enqueueEnvelope(envelope, deps);
        resynced += 1;
      }
    }
  }
  return {
    provider,
    account,
    sampled: objects.length,
    failed,
    drifted: drifted.map(({ envelopes: _sent, ...rest }) => rest),
    driftPercent,
    resynced,
  };
}

/** One sampling run of a provider: every account with recent changes (or the given ones). */
export async function sampleConsistency(
  deps: ConsistencyDeps,
  provider: Provider,
  accounts?: readonly string[],
): Promise<ConsistencySample[]> {
  const since = new Date(
    deps.clock.now().getTime() - (deps.windowHours ?? CONSISTENCY_DEFAULTS.windowHours) * 3_600_000,
  );
  const chosen = accounts ?? (await recentlyChangedAccounts(deps.sql, provider, since));
  const samples: ConsistencySample[] = [];
  for (const account of chosen) {
    const sample = await sampleAccount(deps, provider, account);
    samples.push(sample);
    deps.logger.info('consistency sample', {
      provider,
      account,
      sampled: sample.sampled,
      failed: sample.failed,
      drifted: sample.drifted.length,
      driftPercent: sample.driftPercent,
      resynced: sample.resynced,
      // What the drift alarm's reader needs: which objects and what differs (ids and states only, no payer data).
      ...(sample.drifted.length > 0 ? { driftedObjects: sample.drifted.slice(0, MAX_LOGGED_DRIFTS) } : {}),
    });
  }
  return samples;
}
