// Delivers a Stripe scenario the way Stripe does: signed with the endpoint secret(s), pretty-printed bodies,
// some events repeated, the order shuffled; plus forgeries that must be rejected (wrong secret, tampered body,
// stale and future timestamps, missing or malformed header, oversize body).
import { createHmac } from 'node:crypto';
import { type StripeEventJson, type StripeScenario, shuffle } from './stripe-scenario.ts';

export type DeliveryKind =
  | 'genuine'
  | 'duplicate'
  | 'rotated-secret'
  | 'forged-secret'
  | 'forged-tampered'
  | 'forged-stale'
  | 'forged-future'
  | 'forged-unsigned'
  | 'forged-malformed'
  | 'forged-oversize';

export interface Delivery {
  kind: DeliveryKind;
  eventId: string;
  path: string;
  body: string;
  signature: string | undefined;
}

export interface DeliveryResult extends Delivery {
  status: number;
}

export function signStripePayload(payload: string, secrets: readonly string[], timestamp: number): string {
  const signatures = secrets.map(
    (secret) => `v1=${createHmac('sha256', secret).update(`${timestamp}.${payload}`).digest('hex')}`,
  );
  return [`t=${timestamp}`, ...signatures].join(',');
}

export interface PlanOptions {
  secrets: readonly [string, ...string[]];
  random: () => number;
  duplicateRate: number;
  forgeries: boolean;
  now: number;
  path?: string;
  maxBodyBytes?: number;
}

export function planStripeDeliveries(scenario: StripeScenario, options: PlanOptions): Delivery[] {
  const { random, now } = options;
  const [primary, secondary] = options.secrets;
  const path = options.path ?? '/webhooks/stripe';
  const deliveries: Delivery[] = [];
  const bodyOf = (event: StripeEventJson) => JSON.stringify(event, null, 2);
  // Connect events arrive on the platform's endpoint: /webhooks/stripe/{account} names a configured Stripe
  // account, not the connected one (docs/decisions.md "Stripe accounts by path").
  const pathOf = (_event: StripeEventJson) => path;

  scenario.events.forEach((event, i) => {
    const body = bodyOf(event);
    // While a secret is rolled Stripe signs with both; some deliveries carry only the new one.
    const rotated = secondary !== undefined && i % 7 === 3;
    const signingSecrets = rotated
      ? [secondary]
      : secondary !== undefined && i % 5 === 0
        ? [primary, secondary]
        : [primary];
    deliveries.push({
      kind: rotated ? 'rotated-secret' : 'genuine',
      eventId: event.id,
      path: pathOf(event),
      body,
      signature: signStripePayload(body, signingSecrets, now),
    });
    while (random() < options.duplicateRate) {
      deliveries.push({
        kind: 'duplicate',
        eventId: event.id,
        path: pathOf(event),
        body,
        signature: signStripePayload(body, [primary], now + 1),
      });
    }
  });

  if (options.forgeries) {
    const template = scenario.events[0];
    if (template) {
      const forged = (suffix: string) => bodyOf({ ...template, id: `evt_forged${suffix}` });
      const wrongSecret = 'whsec_not_the_endpoint_secret';
      deliveries.push(
        {
          kind: 'forged-secret',
          eventId: 'evt_forgedsecret',
          path,
          body: forged('secret'),
          signature: signStripePayload(forged('secret'), [wrongSecret], now),
        },
        {
          kind: 'forged-tampered',
          eventId: 'evt_forgedtampered',
          path,
          body: forged('tampered').replace('"livemode": false', '"livemode": true'),
          signature: signStripePayload(forged('tampered'), [primary], now),
        },
        {
          kind: 'forged-stale',
          eventId: 'evt_forgedstale',
          path,
          body: forged('stale'),
          signature: signStripePayload(forged('stale'), [primary], now - 3600),
        },
        {
          kind: 'forged-future',
          eventId: 'evt_forgedfuture',
          path,
          body: forged('future'),
          signature: signStripePayload(forged('future'), [primary], now + 3600),
        },
        {
          kind: 'forged-unsigned',
          eventId: 'evt_forgedunsigned',
          path,
          body: forged('unsigned'),
          signature: undefined,
        },
        {
          kind: 'forged-malformed',
          eventId: 'evt_forgedmalformed',
          path,
          body: forged('malformed'),
          signature: 'v1=deadbeef',
        },
      );
      const huge = bodyOf({
        ...template,
        id: 'evt_forgedoversize',
        data: { object: { ...template.data.object, padding: 'x'.repeat(options.maxBodyBytes ?? 2_097_152) } },
      });
      deliveries.push({
        kind: 'forged-oversize',
        eventId: 'evt_forgedoversize',
        path,
        body: huge,
        signature: signStripePayload(huge, [primary], now),
      });
    }
  }
  return shuffle(deliveries, random);
}

export async function sendDeliveries(
  baseUrl: string,
  deliveries: readonly Delivery[],
  concurrency = 8,
): Promise<DeliveryResult[]> {
  const results: DeliveryResult[] = new Array(deliveries.length);
  let next = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const index = next++;
      const delivery = deliveries[index]!;
      const headers: Record<string, string> = {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      };
      if (delivery.signature !== undefined) headers['stripe-signature'] = delivery.signature;
      const response = await fetch(`${baseUrl}${delivery.path}`, {
        method: 'POST',
        headers,
        body: delivery.body,
      });
      await response.arrayBuffer();
      results[index] = { ...delivery, status: response.status };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}
