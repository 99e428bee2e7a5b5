// A dead letter with a cause an operator can fix, as on call: the database refuses one payment (a check
// constraint standing for a bug, NOT VALID so existing rows stay unchecked), a correctly signed Stripe event for it
// fails at every attempt and the redrive policy moves it to the DLQ; dropping the constraint is the fix.
import type { Sql } from '@payhooks/core/ledger';
import { signStripePayload } from '@payhooks/testkit/sandbox/stripe-sender';

export interface PoisonPayment {
  eventId: string;
  paymentIntentId: string;
  merchantOrderNo: string;
  amountMinor: bigint;
  /** Personal data in the body: the console must show it masked. */
  email: string;
}

/** The constraint's name is derived from the payment, so two poisons in one database do not collide. */
const constraintOf = (p: PoisonPayment) => `blocked_${p.paymentIntentId.replace(/\W/g, '_')}`;

export async function blockPayment(sql: Sql, poison: PoisonPayment): Promise<() => Promise<void>> {
  const name = constraintOf(poison);
  await sql.unsafe(
    `alter table payments add constraint ${name} check (provider_payment_id <> '${poison.paymentIntentId}') not valid`,
  );
  return async () => {
    await sql.unsafe(`alter table payments drop constraint ${name}`);
  };
}

/** Sends the poison's payment_intent.succeeded, signed with one of the gateway's endpoint secrets; answers 200. */
export async function sendPoisonEvent(
  gatewayUrl: string,
  secret: string,
  poison: PoisonPayment,
): Promise<void> {
  const at = Math.floor(Date.now() / 1000) - 60;
  const body = JSON.stringify({
    id: poison.eventId,
    object: 'event',
    type: 'payment_intent.succeeded',
    created: at,
    api_version: '2026-10-28.endive',
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: {
      object: {
        id: poison.paymentIntentId,
        object: 'payment_intent',
        amount: Number(poison.amountMinor),
        amount_received: Number(poison.amountMinor),
        currency: 'eur',
        status: 'succeeded',
        created: at,
        metadata: { order_id: poison.merchantOrderNo },
        receipt_email: poison.email,
      },
    },
  });
  const response = await fetch(`${gatewayUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': signStripePayload(body, [secret], Math.floor(Date.now() / 1000)),
    },
    body,
  });
  if (response.status !== 200)
    throw new Error(`the gateway answered ${response.status} to the poison event: ${await response.text()}`);
}
