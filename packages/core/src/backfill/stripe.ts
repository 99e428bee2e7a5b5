// Stripe backfill: pages through the events list (Stripe keeps the last 30 days) and pushes every event through
// the same envelope and queue as a webhook (an event too large for one message by claim check). The inbox's unique
// event id makes re-runs and overlaps harmless.
import { type ClaimStore, enqueueEnvelope } from '../envelope.ts';
import { ConfigError } from '../errors.ts';
import type { Queue } from '../ports.ts';

/** What backfill needs from the Stripe client (StripeClient.listEvents). */
export interface StripeEventSource {
  listEvents(options: {
    createdGte: Date;
    createdLt?: Date;
  }): AsyncIterable<{ id: string; type: string; created: number; account?: string | null }>;
}

export interface StripeBackfillOptions {
  source: StripeEventSource;
  queue: Queue;
  /** The claim-check store for events whose envelope exceeds one queue message. */
  claims?: ClaimStore | undefined;
  since: Date;
  until?: Date;
  /** The Connect account listed (Stripe-Account header); recorded on events that do not name one. */
  account?: string;
  dryRun?: boolean;
  now: Date;
  onProgress?: (progress: StripeBackfillProgress) => void;
}

export interface StripeBackfillProgress {
  seen: number;
  enqueued: number;
  lastEventId?: string;
}

const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000;

export async function backfillStripe(options: StripeBackfillOptions): Promise<StripeBackfillProgress> {
  if (options.now.getTime() - options.since.getTime() > THIRTY_DAYS_MS) {
    throw new ConfigError(
      'BACKFILL_SINCE_TOO_OLD',
      'Stripe lists only the last 30 days of events: choose a later --since',
    );
  }
  const progress: StripeBackfillProgress = { seen: 0, enqueued: 0 };
  for await (const event of options.source.listEvents({
    createdGte: options.since,
    ...(options.until ? { createdLt: options.until } : {}),
  })) {
    progress.seen += 1;
    progress.lastEventId = event.id;
    if (!options.dryRun) {
      const body = event.account || !options.account ? event : { ...event, account: options.account };
      await enqueueEnvelope(
        {
          v: 1,
          provider: 'stripe',
          eventId: event.id,
          eventType: event.type,
          account: body.account ?? '',
          occurredAt: new Date(event.created * 1000).toISOString(),
          receivedAt: options.now.toISOString(),
          // Fetched over TLS with our API key rather than signed: the body is the API's JSON for the event.
          rawBody: JSON.stringify(body),
        },
        options,
      );
      progress.enqueued += 1;
    }
    options.onProgress?.(progress);
  }
  return progress;
}
