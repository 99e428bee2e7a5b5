// Healing for Stripe: a break's object is retrieved from Stripe and wrapped in the client's synthetic event, which
// the consumer applies exactly as a callback (the loop itself: run/heal-breaks.ts).
import { ENVELOPE_VERSION } from '../../envelope.ts';
import type { Clock } from '../../ports.ts';
import type { RetrievableObjectType, SyntheticStripeEvent } from '../../providers/stripe/client.ts';
import { HealError } from '../errors.ts';
import type { Healer } from '../run/types.ts';

/** The part of the Stripe client healing needs (StripeClient satisfies it). */
export interface StripeRetrieveApi {
  retrieve(objectType: RetrievableObjectType, id: string): Promise<Record<string, unknown>>;
}

export type SyntheticEventFactory = (
  object: Record<string, unknown>,
  options: { account?: string; clock?: Clock },
) => SyntheticStripeEvent;

export function stripeHealer(
  api: StripeRetrieveApi,
  synthetic: SyntheticEventFactory,
  account: string,
  clock: Clock,
): Healer {
  return {
    async envelopes(candidate) {
      let object: Record<string, unknown>;
      if (candidate.kind === 'payment' && candidate.providerPaymentId) {
        const id = candidate.providerPaymentId;
        object = await api.retrieve(id.startsWith('pi_') ? 'payment_intent' : 'charge', id);
      } else if (candidate.kind === 'refund' && candidate.providerRefundId) {
        object = await api.retrieve('refund', candidate.providerRefundId);
      } else if (candidate.kind === 'payout' && candidate.payoutId) {
        object = await api.retrieve('payout', candidate.payoutId);
      } else {
        throw new HealError(`Stripe ${candidate.kind} break without an object id`);
      }
      const event = synthetic(object, { ...(account ? { account } : {}), clock });
      return [
        {
          v: ENVELOPE_VERSION,
          provider: 'stripe',
          eventId: event.id,
          eventType: event.type,
          account,
          occurredAt: new Date(event.created * 1000).toISOString(),
          receivedAt: clock.now().toISOString(),
          rawBody: JSON.stringify(event),
        },
      ];
    },
  };
}
