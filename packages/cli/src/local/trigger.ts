// `payhooks trigger stripe|wechatpay <event type>` against the local stack, as `stripe trigger` does: one
// realistic callback built with the provider sandbox's own builders, signed with the local stack's secrets from
// local.json (`stripeWebhookSecrets`, `wechatpaySigningFile`), posted to the local gateway; then it waits until
// the inbox holds the event and reports what the ledger did: the outcome and every payments / refunds / disputes /
// mirror row whose last event is this one.
import { createPrivateKey, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError, PayhooksError } from '@payhooks/core/errors';
import { createSql, type Sql } from '@payhooks/core/ledger';
import { buildStripeScenario, type StripeEventJson } from '@payhooks/testkit/sandbox/stripe-scenario';
import { signStripePayload } from '@payhooks/testkit/sandbox/stripe-sender';
import {
  buildWechatpayScenario,
  type WechatpayNotificationSpec,
} from '@payhooks/testkit/sandbox/wechatpay-scenario';
import { encodeNotification, signNotification } from '@payhooks/testkit/sandbox/wechatpay-sender';

export type TriggerProvider = 'stripe' | 'wechatpay';

/** The callback was refused by the gateway or never reached the ledger in time. */
export class TriggerFailedError extends PayhooksError {
  constructor(message: string) {
    super('CLI_TRIGGER_FAILED', message);
  }
}

/** Stripe event types whose objects the ledger projects or mirrors (core/providers/stripe/normalize.ts). */
const STRIPE_FROM_SCENARIO = [
  'payment_intent.created',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'payment_intent.requires_action',
  'charge.succeeded',
  'charge.refunded',
  'charge.refund.updated',
  'refund.created',
  'refund.updated',
  'charge.dispute.created',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.updated',
  'charge.dispute.closed',
  'customer.created',
  'customer.updated',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.created',
  'invoice.finalized',
  'invoice.updated',
  'invoice.paid',
  'invoice.payment_succeeded',
  'payout.created',
  'payout.paid',
] as const;
/** Types the scenario never sends, derived from one it does (same object, the state the type announces). */
const STRIPE_DERIVED: Record<string, { from: string; patch: Record<string, unknown> }> = {
  'payment_intent.processing': { from: 'payment_intent.created', patch: { status: 'processing' } },
  'customer.deleted': { from: 'customer.created', patch: { deleted: true } },
};
export const STRIPE_TRIGGER_TYPES: readonly string[] = [
  ...STRIPE_FROM_SCENARIO,
  ...Object.keys(STRIPE_DERIVED),
];

/** WeChat Pay notifications the ledger projects; `combined` is a combined payment's TRANSACTION.SUCCESS. */
const WECHATPAY_MATCHERS: Record<string, (n: WechatpayNotificationSpec) => boolean> = {
  'TRANSACTION.SUCCESS': (n) =>
    n.eventType === 'TRANSACTION.SUCCESS' && n.originalType === 'transaction' && !n.resource.combine_mchid,
  'REFUND.SUCCESS': (n) => n.eventType === 'REFUND.SUCCESS',
  'REFUND.ABNORMAL': (n) => n.eventType === 'REFUND.ABNORMAL',
  'REFUND.CLOSED': (n) => n.eventType === 'REFUND.CLOSED',
  'PROFITSHARING.SUCCESS': (n) => n.eventType === 'PROFITSHARING.SUCCESS',
  'PROFITSHARING.RETURN': (n) => n.eventType === 'PROFITSHARING.RETURN',
  combined: (n) => n.eventType === 'TRANSACTION.SUCCESS' && Boolean(n.resource.combine_mchid),
};
export const WECHATPAY_TRIGGER_TYPES: readonly string[] = Object.keys(WECHATPAY_MATCHERS);

export function assertTriggerType(provider: TriggerProvider, type: string): void {
  const supported = provider === 'stripe' ? STRIPE_TRIGGER_TYPES : WECHATPAY_TRIGGER_TYPES;
  if (!supported.includes(type))
    throw new ConfigError(
      'CLI_USAGE',
      `trigger ${provider} does not know "${type}"; supported: ${supported.join(', ')}`,
    );
}

/** One Stripe event of `type`, fresh ids per call (a random seed), created now. */
export function buildStripeTriggerEvent(type: string, now = Math.floor(Date.now() / 1000)): StripeEventJson {
  assertTriggerType('stripe', type);
  const derived = STRIPE_DERIVED[type];
  const wanted = derived?.from ?? type;
  const firstSeed = randomInt(2 ** 30);
  // A payment flow's branch (refund, dispute, failure…) depends on the seed: a few seeds always have each type.
  for (let seed = firstSeed; seed < firstSeed + 200; seed++) {
    const scenario = buildStripeScenario({ seed, payments: 10, startTime: now - 60 });
    const event = scenario.events.find((e) => e.type === wanted);
    if (!event) continue;
    if (!derived) return { ...event, created: now };
    return {
      ...event,
      type,
      created: now,
      data: { object: { ...event.data.object, ...derived.patch } },
    };
  }
  throw new TriggerFailedError(`the sandbox scenario produced no ${type} event`);
}

interface SigningMerchant {
  id: string;
  mchid: string;
  appid: string;
  apiv3Key: string;
  signingKey: { serial: string; privateKeyPem: string };
}

async function readSigningMerchants(file: string | undefined): Promise<SigningMerchant[]> {
  if (!file)
    throw new ConfigError(
      'CLI_NO_WECHATPAY_SIGNING',
      'local.json has no wechatpaySigningFile: the local stack runs merchants of your own (WECHATPAY_MERCHANTS_FILE), which the sandbox cannot sign for',
    );
  try {
    const document = JSON.parse(await readFile(file, 'utf8')) as { merchants: SigningMerchant[] };
    if (!Array.isArray(document.merchants) || document.merchants.length === 0)
      throw new Error('no merchants');
    return document.merchants;
  } catch {
    throw new ConfigError('CLI_NO_WECHATPAY_SIGNING', `wechatpaySigningFile ${file} cannot be read`);
  }
}

export interface TriggerRequest {
  provider: TriggerProvider;
  type: string;
  /** local.json's contents. */
  local: Record<string, unknown>;
  /** How long to wait for the ledger (default 30 s). */
  timeoutMs?: number;
}

export interface TriggerRow {
  table: string;
  id: string;
  status: string | null;
  amountMinor?: bigint;
  currency?: string;
}

export interface TriggerResult {
  provider: TriggerProvider;
  eventType: string;
  eventId: string;
  httpStatus: number;
  outcome: string;
  rows: TriggerRow[];
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

export async function triggerLocal(request: TriggerRequest): Promise<TriggerResult> {
  const { provider, type, local } = request;
  assertTriggerType(provider, type);
  const gatewayUrl = local.gatewayUrl as string | undefined;
  const databaseUrl = local.databaseUrl as string | undefined;
  if (!gatewayUrl || !databaseUrl)
    throw new ConfigError(
      'CLI_BAD_LOCAL_JSON',
      'local.json lacks gatewayUrl or databaseUrl: restart npm start',
    );
  const now = Math.floor(Date.now() / 1000);
  let eventId: string;
  let status: number;
  if (provider === 'stripe') {
    const secrets = local.stripeWebhookSecrets as string[] | undefined;
    if (!secrets?.[0])
      throw new ConfigError(
        'CLI_NO_STRIPE_SECRET',
        'local.json has no stripeWebhookSecrets: restart the local stack (npm start) to write them',
      );
    const event = buildStripeTriggerEvent(type, now);
    const body = JSON.stringify(event, null, 2);
    eventId = event.id;
    status = await post(`${gatewayUrl}/webhooks/stripe`, body, {
      'stripe-signature': signStripePayload(body, [secrets[0]], now),
    });
  } else {
    const merchants = await readSigningMerchants(local.wechatpaySigningFile as string | undefined);
    const notification = buildWechatpayTriggerNotification(type, merchants, now);
    const merchant = merchants.find((m) => m.id === notification.merchantId)!;
    const body = encodeNotification(notification, merchant.apiv3Key);
    eventId = notification.id;
    status = await post(
      `${gatewayUrl}/webhooks/wechatpay/${merchant.id}`,
      body,
      signNotification(
        body,
        {
          serial: merchant.signingKey.serial,
          privateKey: createPrivateKey(merchant.signingKey.privateKeyPem),
        },
        now,
      ),
    );
  }
  if (status < 200 || status >= 300)
    throw new TriggerFailedError(`the local gateway answered ${status} to ${provider} ${type} (${eventId})`);
  const sql = createSql({ url: databaseUrl, max: 1, applicationName: 'payhooks-cli-trigger' });
  try {
    const outcome = await waitForInbox(sql, provider, eventId, request.timeoutMs ?? 30_000);
    return {
      provider,
      eventType: type,
      eventId,
      httpStatus: status,
      outcome,
      rows: await touchedRows(sql, provider, eventId),
    };
  } finally {
    await sql.end();
  }
}

function buildWechatpayTriggerNotification(
  type: string,
  merchants: SigningMerchant[],
  now: number,
): WechatpayNotificationSpec {
  const matches = WECHATPAY_MATCHERS[type]!;
  const firstSeed = randomInt(2 ** 30);
  for (let seed = firstSeed; seed < firstSeed + 200; seed++) {
    const scenario = buildWechatpayScenario({ seed, payments: 6, merchants, startTime: now - 60 });
    const found = scenario.notifications.find(matches);
    if (found) return found;
  }
  throw new TriggerFailedError(`the sandbox scenario produced no ${type} notification`);
}

/** Waits for the consumer to apply (or store) the event: the inbox row is written in the same transaction. */
async function waitForInbox(sql: Sql, provider: string, eventId: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await sql<{ outcome: string }[]>`
      select outcome from inbox_events where provider = ${provider} and event_id = ${eventId}`;
    if (row) return row.outcome;
    if (Date.now() > deadline)
      throw new TriggerFailedError(
        `${eventId} was accepted but not in the ledger after ${timeoutMs} ms: see npm run cli -- dlq list`,
      );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const MIRROR_TABLES = {
  stripe: [
    'payment_intents',
    'charges',
    'refunds',
    'disputes',
    'customers',
    'invoices',
    'subscriptions',
    'payouts',
  ],
  wechatpay: ['transactions', 'refunds', 'profit_sharing'],
} as const;

async function touchedRows(sql: Sql, provider: TriggerProvider, eventId: string): Promise<TriggerRow[]> {
  const rows: TriggerRow[] = [];
  for (const [table, idColumn] of [
    ['payments', 'provider_payment_id'],
    ['refunds', 'provider_refund_id'],
    ['disputes', 'provider_dispute_id'],
  ] as const) {
    const found = await sql<{ id: string; status: string; amount_minor: string; currency: string }[]>`
      select ${sql(idColumn)} as id, status, amount_minor::text, currency from ${sql(table)}
      where provider = ${provider} and last_event_id = ${eventId} order by 1`;
    for (const r of found)
      rows.push({
        table,
        id: r.id,
        status: r.status,
        amountMinor: BigInt(r.amount_minor),
        currency: r.currency,
      });
  }
  for (const table of MIRROR_TABLES[provider]) {
    const found = await sql<{ id: string; status: string | null }[]>`
      select id, status from ${sql(provider)}.${sql(table)} where last_event_id = ${eventId} order by 1`;
    for (const r of found) rows.push({ table: `${provider}.${table}`, id: r.id, status: r.status });
  }
  return rows;
}

export function describeTrigger(result: TriggerResult): string {
  const lines = [
    `${result.provider} ${result.eventType} ${result.eventId}: gateway ${result.httpStatus}, ledger ${result.outcome}`,
  ];
  if (result.rows.length === 0)
    lines.push('  no ledger row has this event as its last (kept as evidence only)');
  for (const row of result.rows)
    lines.push(
      `  ${row.table.padEnd(26)} ${row.id}  ${row.status ?? '-'}${row.amountMinor !== undefined ? `  ${row.amountMinor} ${row.currency}` : ''}`,
    );
  return lines.join('\n');
}
