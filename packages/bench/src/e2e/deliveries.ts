// Case 7's traffic: distinct provider events built by the sandbox's scenario builders, delivered in event-time
// order except for a share moved later (out of order), plus a share of redeliveries of earlier events, each
// delivery signed on its own (a WeChat Pay retry carries a fresh nonce and signature, as WeChat sends it). Both sides of a
// pair get exactly the same deliveries.
import { buildStripeScenario, prng, type StripeEventJson } from '@payhooks/testkit/sandbox/stripe-scenario';
import { signStripePayload } from '@payhooks/testkit/sandbox/stripe-sender';
import type { SandboxMerchant } from '@payhooks/testkit/sandbox/wechatpay-merchants';
import {
  buildWechatpayScenario,
  type WechatpayNotificationSpec,
} from '@payhooks/testkit/sandbox/wechatpay-scenario';
import { encodeNotification, signNotification } from '@payhooks/testkit/sandbox/wechatpay-sender';

export interface UniqueEvent {
  eventId: string;
  path: string;
  body: string;
  /** Signature headers (lower-case names) for attempt `attempt` at unix time `now`. */
  sign(now: number, attempt: number): Record<string, string>;
}

export interface Delivery {
  eventId: string;
  path: string;
  body: string;
  headers: Record<string, string>;
}

export interface DeliveryMix {
  /** Share of all deliveries that repeat an event delivered earlier. */
  redeliveryShare: number;
  /** Share of the distinct events moved later than their event-time position. */
  outOfOrderShare: number;
  seed: number;
}

export interface PlannedDelivery {
  event: UniqueEvent;
  attempt: number;
}

/** At most this many positions later: an event overtaken by a few newer ones, as retries and fan-out do it. */
const MAX_SHIFT = 16;
/** A redelivery follows its first delivery within this many positions (the provider's retry comes soon). */
const MAX_REDELIVERY_GAP = 64;

export function planDeliveries(events: readonly UniqueEvent[], mix: DeliveryMix): PlannedDelivery[] {
  const random = prng(mix.seed);
  const keyed: { key: number; item: PlannedDelivery }[] = events.map((event, i) => ({
    key: random() < mix.outOfOrderShare ? i + 1 + Math.floor(random() * MAX_SHIFT) + 0.5 : i,
    item: { event, attempt: 0 },
  }));
  const redeliveries = Math.round((events.length * mix.redeliveryShare) / (1 - mix.redeliveryShare));
  const attempts = new Map<UniqueEvent, number>();
  for (let r = 0; r < redeliveries; r++) {
    const i = Math.floor(random() * events.length);
    const first = keyed[i]!;
    const attempt = (attempts.get(first.item.event) ?? 0) + 1;
    attempts.set(first.item.event, attempt);
    keyed.push({
      key: first.key + 1 + random() * MAX_REDELIVERY_GAP,
      item: { event: first.item.event, attempt },
    });
  }
  return keyed.sort((a, b) => a.key - b.key).map((k) => k.item);
}

/** Signs every planned delivery now (call it right before a pair: providers' signatures expire). */
export function signDeliveries(plan: readonly PlannedDelivery[]): Delivery[] {
  const now = Math.floor(Date.now() / 1000);
  return plan.map(({ event, attempt }) => ({
    eventId: event.eventId,
    path: event.path,
    body: event.body,
    headers: event.sign(now, attempt),
  }));
}

/** `count` distinct Stripe events in event-time order, signed with `secret`. */
export function stripeEvents(count: number, secret: string, seed: number): UniqueEvent[] {
  const byId = new Map<string, StripeEventJson>();
  for (let s = seed; byId.size < count; s++) {
    for (const event of buildStripeScenario({ seed: s, payments: 20 }).events) byId.set(event.id, event);
  }
  return [...byId.values()]
    .slice(0, count)
    .sort((a, b) => a.created - b.created)
    .map((event) => {
      const body = JSON.stringify(event, null, 2); // Stripe pretty-prints webhook bodies
      return {
        eventId: event.id,
        path: '/webhooks/stripe',
        body,
        sign: (now: number) => ({
          'content-type': 'application/json; charset=utf-8',
          'stripe-signature': signStripePayload(body, [secret], now),
        }),
      };
    });
}

/** `count` distinct WeChat Pay notifications in create_time order, encrypted and signed for their merchant. */
export function wechatpayEvents(
  count: number,
  merchants: readonly SandboxMerchant[],
  seed: number,
): UniqueEvent[] {
  const byId = new Map<string, WechatpayNotificationSpec>();
  for (let s = seed; byId.size < count; s++) {
    const scenario = buildWechatpayScenario({ seed: s, payments: 40, merchants: [...merchants] });
    for (const spec of scenario.notifications) byId.set(spec.id, spec);
  }
  const merchantById = new Map(merchants.map((m) => [m.id, m]));
  return [...byId.values()]
    .slice(0, count)
    .sort((a, b) => (a.createTime < b.createTime ? -1 : a.createTime > b.createTime ? 1 : 0))
    .map((spec) => {
      const merchant = merchantById.get(spec.merchantId)!;
      const body = encodeNotification(spec, merchant.apiv3Key);
      return {
        eventId: spec.id,
        path: `/webhooks/wechatpay/${merchant.id}`,
        body,
        sign: (now: number, attempt: number) => {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          // Retries come signed by either configured key (public-key and certificate mode).
          const signed = signNotification(body, merchant.keys[attempt % 2]!, now);
          for (const [name, value] of Object.entries(signed)) headers[name.toLowerCase()] = value;
          return headers;
        },
      };
    });
}
