// Case 7's baseline: the simplest honest synchronous webhook server, in its own process (forked from an esbuild
// bundle), as a team without payhooks would write it. Stripe: `Stripe.webhooks.constructEvent`. WeChat Pay:
// RSA-SHA256 verify with pre-parsed KeyObjects, ±5 min timestamp window, AES-256-GCM decrypt with the APIv3 key.
// Then one autocommitted upsert per delivery into the same PostgreSQL (postgres.js pool of 10, no queue): the
// latest event per object wins ("where newer"), a redelivery or an older event changes nothing. Answers after
// the commit. No logs, no metrics, no inbox of every event, no projections.
import { createDecipheriv, createPublicKey, type KeyObject, verify } from 'node:crypto';
import http from 'node:http';
import postgres from 'postgres';
import Stripe from 'stripe';
import type { BaselineConfig } from './protocol.ts';

const TOLERANCE_SECONDS = 300;

function start(config: BaselineConfig) {
  const sql = postgres(config.databaseUrl, { max: 10, connection: { application_name: 'bench-baseline' } });
  const keys = new Map<string, KeyObject>();
  const apiv3Keys = new Map<string, Buffer>();
  for (const m of config.merchants) {
    apiv3Keys.set(m.id, Buffer.from(m.apiv3Key, 'utf8'));
    for (const k of m.keys) keys.set(`${m.id}:${k.serial}`, createPublicKey(k.publicKeyPem));
  }

  const upsert = (
    provider: string,
    objectId: string,
    eventId: string,
    type: string,
    occurredAt: Date,
    payload: string,
  ) => sql`
    insert into baseline_events (provider, object_id, event_id, event_type, occurred_at, payload)
    values (${provider}, ${objectId}, ${eventId}, ${type}, ${occurredAt}, ${payload}::jsonb)
    on conflict (provider, object_id) do update
      set event_id = excluded.event_id, event_type = excluded.event_type,
          occurred_at = excluded.occurred_at, payload = excluded.payload
      where baseline_events.occurred_at < excluded.occurred_at`;

  async function stripe(body: string, signature: string): Promise<number> {
    let event: Stripe.Event;
    try {
      event = Stripe.webhooks.constructEvent(body, signature, config.stripeSecret);
    } catch {
      return 400;
    }
    const object = event.data.object as { id?: string };
    await upsert('stripe', object.id ?? event.id, event.id, event.type, new Date(event.created * 1000), body);
    return 200;
  }

  async function wechatpay(merchantId: string, body: string, h: http.IncomingHttpHeaders): Promise<number> {
    const timestamp = String(h['wechatpay-timestamp'] ?? '');
    const nonce = String(h['wechatpay-nonce'] ?? '');
    const key = keys.get(`${merchantId}:${String(h['wechatpay-serial'] ?? '')}`);
    const apiv3Key = apiv3Keys.get(merchantId);
    if (!key || !apiv3Key || Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return 401;
    const signed = Buffer.from(`${timestamp}\n${nonce}\n${body}\n`, 'utf8');
    const signature = Buffer.from(String(h['wechatpay-signature'] ?? ''), 'base64');
    if (!verify('RSA-SHA256', signed, key, signature)) return 401;
    const notification = JSON.parse(body) as {
      id: string;
      create_time: string;
      event_type: string;
      resource: { ciphertext: string; nonce: string; associated_data?: string };
    };
    const sealed = Buffer.from(notification.resource.ciphertext, 'base64');
    const decipher = createDecipheriv(
      'aes-256-gcm',
      apiv3Key,
      Buffer.from(notification.resource.nonce, 'utf8'),
    );
    decipher.setAAD(Buffer.from(notification.resource.associated_data ?? '', 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const plaintext = Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.length - 16)),
      decipher.final(),
    ]);
    const resource = JSON.parse(plaintext.toString('utf8')) as Record<string, string | undefined>;
    const objectId = resource.refund_id ?? resource.transaction_id ?? resource.coupon_id ?? notification.id;
    const occurredAt = new Date(resource.success_time ?? notification.create_time);
    await upsert(
      'wechatpay',
      objectId,
      notification.id,
      notification.event_type,
      occurredAt,
      plaintext.toString('utf8'),
    );
    return 204;
  }

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = request.url ?? '';
      const answer =
        url === '/webhooks/stripe'
          ? stripe(body, String(request.headers['stripe-signature'] ?? ''))
          : url.startsWith('/webhooks/wechatpay/')
            ? wechatpay(url.slice('/webhooks/wechatpay/'.length), body, request.headers)
            : Promise.resolve(404);
      answer.then(
        (status) => {
          response.writeHead(status);
          response.end();
        },
        () => {
          response.writeHead(500);
          response.end();
        },
      );
    });
  });
  server.keepAliveTimeout = 5000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    process.send!({ type: 'listening', url: `http://127.0.0.1:${port}` });
  });
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await sql.end({ timeout: 5 });
  };
}

// Only as the forked child (the parent sets the role): imported anywhere else, this module must not take over
// the importing process's IPC channel.
if (process.env.PAYHOOKS_BENCH_CHILD === 'baseline-server') {
  let stop: (() => Promise<void>) | undefined;
  process.on('message', (message: BaselineConfig | { type: 'stop' }) => {
    if (message.type === 'config') stop = start(message);
    else
      void (stop?.() ?? Promise.resolve()).finally(() => {
        process.exit(0);
      });
  });
  process.on('disconnect', () => process.exit(0));
}
