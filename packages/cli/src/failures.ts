// Failure reasons of dead letters as the consumer recorded them (delivery_failures): through the stage's
// operations function, or straight from the local stack's / DATABASE_URL's database. Without either, none.
import {
  createSql,
  type DeliveryFailureSummary,
  deliveryFailureKey,
  latestDeliveryFailures,
} from '@payhooks/core/ledger';
import type { DeadLetter, FailureLookup } from './stage/dead-letters.ts';
import { operate } from './stage/operations.ts';
import type { Target } from './target.ts';

function queryOf(letters: readonly DeadLetter[]) {
  return {
    events: letters.flatMap((l) =>
      l.envelope ? [{ provider: l.envelope.provider, eventId: l.envelope.eventId }] : [],
    ),
    messageIds: letters.filter((l) => !l.envelope).map((l) => l.messageId),
  };
}

/** How to read failure reasons on this target; undefined when it has no database and no stage. */
export function failureLookupFor(target: Target): FailureLookup | undefined {
  if (!target.operations && !target.databaseUrl) return undefined;
  return async (letters) => {
    if (letters.length === 0) return new Map();
    const query = queryOf(letters);
    if (target.operations) {
      const found = await operate<DeliveryFailureSummary[]>(target.operations, {
        action: 'failures',
        ...query,
      });
      return new Map(
        found.map((f) => [
          f.eventId && f.provider ? `${f.provider}:${f.eventId}` : `message:${f.messageId}`,
          f,
        ]),
      );
    }
    const sql = createSql({ url: target.databaseUrl!, max: 1, applicationName: 'payhooks-cli' });
    try {
      return await latestDeliveryFailures(sql, query);
    } finally {
      await sql.end();
    }
  };
}

export { deliveryFailureKey };
