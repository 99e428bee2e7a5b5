// The pending-order sweep: merchant orders still unpaid in the ledger some minutes after they were created are
// queried at WeChat Pay; paid ones go through the normal queue path, so a lost notification heals itself within
// the hour. The CLI's `backfill wechatpay` runs the same backfill over any window.
import { backfillWechatpay, type WechatpayBackfillResult } from '@payhooks/core/backfill/wechatpay';
import type { ClaimStore } from '@payhooks/core/envelope';
import type { Sql } from '@payhooks/core/ledger';
import type { Clock, Queue } from '@payhooks/core/ports';
import type { Healer } from '@payhooks/core/recon/run';

export interface SweepDeps {
  sql: Sql;
  queue: Queue;
  /** The claim-check store for notifications whose envelope exceeds one queue message. */
  claims?: ClaimStore | undefined;
  healerFor: (account: string) => Healer | undefined;
  clock: Clock;
  pendingMinutes: number;
  lookbackHours: number;
}

export async function sweepPendingOrders(deps: SweepDeps): Promise<WechatpayBackfillResult> {
  const now = deps.clock.now().getTime();
  return backfillWechatpay({
    sql: deps.sql,
    queue: deps.queue,
    claims: deps.claims,
    healerFor: deps.healerFor,
    createdAfter: new Date(now - deps.lookbackHours * 3_600_000),
    createdBefore: new Date(now - deps.pendingMinutes * 60_000),
  });
}
