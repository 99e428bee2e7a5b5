// The reconciliation breaks the demo plants on purpose, and the reconciliation's check against exactly those.
import type { Sql } from '@payhooks/core/ledger';
import type { LocalReconResult } from '../local-reconciliation.ts';
import type { ExpectedBreak, ReconCheck } from './types.ts';

/** The three payment breaks each provider's files carry: never notified (healed), not in the file, amount off. */
export function deliberatePaymentBreaks(
  provider: ExpectedBreak['provider'],
  account: string,
  ids: { neverNotified: string; notInFile: string; amountDiffers: string },
  why: { neverNotified: string; notInFile: string; amountDiffers: string },
): ExpectedBreak[] {
  const payment = { provider, account, kind: 'payment' } as const;
  return [
    {
      ...payment,
      class: 'missing_in_ledger',
      id: ids.neverNotified,
      healed: true,
      why: why.neverNotified,
    },
    { ...payment, class: 'missing_at_provider', id: ids.notInFile, healed: false, why: why.notInFile },
    { ...payment, class: 'amount_mismatch', id: ids.amountDiffers, healed: false, why: why.amountDiffers },
  ];
}

interface BreakKeyParts {
  provider: string;
  account: string;
  class: string;
  kind: string;
  id: string | null;
  healed: boolean;
}

const breakKey = (b: BreakKeyParts) =>
  `${b.provider}/${b.account}/${b.class}/${b.kind}/${b.id}/${b.healed ? 'healed' : 'unhealed'}`;

/** Every run succeeded, and its breaks are exactly the expected ones (class before healing, id, healed or not). */
export async function checkReconciliation(
  sql: Sql,
  recon: LocalReconResult,
  expected: readonly ExpectedBreak[],
  options: { refundsSettled?: Partial<Record<'wechatpay' | 'stripe', number>> } = {},
): Promise<ReconCheck> {
  const problems: string[] = [];
  const actual: string[] = [];
  for (const r of recon.results) {
    if (r.status !== 'succeeded' || !r.runId) {
      problems.push(
        `${r.provider} ${r.account || 'platform'} ${r.businessDate}: run ${r.status}${r.error ? ` (${r.error.code}: ${r.error.message})` : ''}`,
      );
      continue;
    }
    for (const row of await breaksOfRun(sql, r.runId))
      actual.push(breakKey({ ...row, provider: r.provider, account: r.account }));
  }
  const matchedRefunds = await matchedRefundsByProvider(sql, recon);
  for (const [provider, n] of Object.entries(options.refundsSettled ?? {})) {
    const matched = matchedRefunds[provider] ?? 0;
    if (matched < n) problems.push(`${provider}: ${matched} refund(s) matched, expected at least ${n}`);
  }
  const want = expected.map(breakKey);
  for (const key of want) if (!actual.includes(key)) problems.push(`expected break missing: ${key}`);
  for (const key of actual) if (!want.includes(key)) problems.push(`unexpected break: ${key}`);
  return { ok: problems.length === 0, problems, matchedRefunds };
}

/** A run's breaks, healed ones by the class they had before healing. */
function breaksOfRun(sql: Sql, runId: string) {
  return sql<{ class: string; healed: boolean; kind: string; id: string | null }[]>`
    select coalesce(healed_from, class) as class, healed_from is not null as healed, kind,
           coalesce(provider_refund_id, payout_id, provider_payment_id, merchant_order_no) as id
    from recon_items
    where run_id = ${runId} and ((class <> 'matched' and class <> 'pending_next_bill') or healed_from is not null)`;
}

/** The refunds the traffic settled that day are in the files and match (the Stripe connected account's too); plain
 * matches are staged lines without an item (view recon_plain_matches). */
async function matchedRefundsByProvider(sql: Sql, recon: LocalReconResult): Promise<Record<string, number>> {
  const runIds = recon.results.flatMap((r) => (r.runId && r.status === 'succeeded' ? [r.runId] : []));
  const rows = await sql<{ provider: string; n: number }[]>`
    select r.provider, count(*)::int as n from recon_plain_matches m join recon_runs r on r.run_id = m.run_id
    where m.run_id in ${sql([...runIds, ''])} and m.kind = 'refund'
    group by r.provider`;
  return Object.fromEntries(rows.map((row) => [row.provider, row.n]));
}
