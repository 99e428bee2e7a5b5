// Stripe revalidation: objects whose mirror could not order two events (ledger/revalidations.ts) are retrieved
// from Stripe as that account and sent, wrapped in a synthetic event, through the same envelope and queue as a
// webhook. The synthetic event is dated when it was fetched, so it outranks the tied ones: the mirror ends at
// what Stripe holds. At most `limit` objects per run; each object at most once per cooldown.
import { type ClaimStore, enqueueEnvelope } from '../envelope.ts';
import { PayhooksError } from '../errors.ts';
import type { Sql } from '../ledger/db.ts';
import {
  claimDueRevalidations,
  type DueRevalidation,
  markRevalidated,
  markRevalidationFailed,
} from '../ledger/revalidations.ts';
import type { Clock, Queue } from '../ports.ts';
import {
  RETRIEVABLE_OBJECT_TYPES,
  type RetrievableObjectType,
  type SyntheticStripeEvent,
} from '../providers/stripe/client.ts';

export interface StripeRevalidationDeps {
  sql: Sql;
  /** Retrieves an object as the given account ('' = the platform). */
  retrieve(account: string, objectType: RetrievableObjectType, id: string): Promise<Record<string, unknown>>;
  synthetic(
    object: Record<string, unknown>,
    options: { account?: string; clock?: Clock },
  ): SyntheticStripeEvent;
  queue: Queue;
  /** The claim-check store for objects whose envelope exceeds one queue message. */
  claims?: ClaimStore | undefined;
  clock: Clock;
  /** Objects per run (the API rate budget this job may use); default 100. */
  limit?: number;
}

export interface StripeRevalidationResult {
  claimed: number;
  enqueued: number;
  failed: { objectType: string; objectId: string; code: string }[];
}

const isRetrievable = (type: string): type is RetrievableObjectType =>
  (RETRIEVABLE_OBJECT_TYPES as readonly string[]).includes(type);

async function revalidateOne(deps: StripeRevalidationDeps, due: DueRevalidation): Promise<string> {
  if (!isRetrievable(due.objectType))
    throw new PayhooksError(
      'REVALIDATION_UNSUPPORTED_TYPE',
      `cannot retrieve Stripe ${due.objectType} objects`,
    );
  const object = await deps.retrieve(due.account, due.objectType, due.objectId);
  const event = deps.synthetic(object, {
    ...(due.account ? { account: due.account } : {}),
    clock: deps.clock,
  });
  await enqueueEnvelope(
    {
      v: 1,
      provider: 'stripe',
      eventId: event.id,
      eventType: event.type,
      account: due.account,
      occurredAt: new Date(event.created * 1000).toISOString(),
      receivedAt: deps.clock.now().toISOString(),
      rawBody: JSON.stringify(event),
    },
    deps,
  );
  return event.id;
}

export async function revalidateStripeObjects(
  deps: StripeRevalidationDeps,
): Promise<StripeRevalidationResult> {
  const due = await claimDueRevalidations(deps.sql, 'stripe', deps.limit ?? 100);
  const result: StripeRevalidationResult = { claimed: due.length, enqueued: 0, failed: [] };
  for (const item of due) {
    try {
      await markRevalidated(deps.sql, item, await revalidateOne(deps, item));
      result.enqueued += 1;
    } catch (error) {
      const code = error instanceof PayhooksError ? error.code : 'REVALIDATION_FAILED';
      await markRevalidationFailed(deps.sql, item, code);
      result.failed.push({ objectType: item.objectType, objectId: item.objectId, code });
    }
  }
  return result;
}
