// The claim check's two halves as pure functions over ports: what a producer stores and sends, and what the
// consumer accepts back. Real SHA-256 over real bytes; the store and queue are in memory.
import { describe, expect, it } from 'vitest';
import {
  decodeEnvelope,
  enqueueEnvelope,
  isClaimMessage,
  MAX_QUEUE_MESSAGE_BYTES,
  resolveClaimCheck,
  resolveClaimMessage,
  sendClaimChecked,
} from '../src/envelope.ts';
import type { IngressEnvelope } from '../src/ingress/envelope.ts';

function memory() {
  const objects = new Map<string, Uint8Array>();
  const sent: string[] = [];
  return {
    objects,
    sent,
    claims: {
      put: async (key: string, body: Uint8Array | string) => {
        objects.set(key, typeof body === 'string' ? Buffer.from(body) : body);
      },
      get: async (key: string) => objects.get(key),
    },
    queue: {
      send: async (body: string) => {
        sent.push(body);
        return { messageId: `m-${sent.length}` };
      },
    },
  };
}

const envelope = (rawBody: string): IngressEnvelope => ({
  v: 1,
  provider: 'stripe',
  eventId: 'evt_1Claim',
  eventType: 'payment_intent.succeeded',
  account: 'acct_1X',
  occurredAt: '2026-12-01T10:00:00.000Z',
  receivedAt: '2026-12-01T10:00:01.000Z',
  rawBody,
});

describe('sendClaimChecked + resolveClaimCheck', () => {
  it('stores the body under its SHA-256, sends a reference without the body, and restores the exact envelope', async () => {
    const store = memory();
    const body = JSON.stringify({ id: 'evt_1Claim', note: '支付 "quoted" \u2028' });
    const { claim } = await sendClaimChecked(envelope(body), store);
    expect(claim.key).toMatch(/^claim-check\/stripe\/[0-9a-f]{64}$/);
    expect(Buffer.from(store.objects.get(claim.key)!).toString('utf8')).toBe(body);
    const message = store.sent[0]!;
    expect(isClaimMessage(message)).toBe(true);
    expect(message).not.toContain('rawBody');
    const resolved = await resolveClaimCheck(message, store.claims);
    expect(decodeEnvelope(resolved)).toEqual(envelope(body));
  });

  it('passes an inline envelope through untouched, even one whose body mentions a claim', async () => {
    const inline = JSON.stringify(envelope('{"v":1,"claim":{}}'));
    expect(isClaimMessage(inline)).toBe(false);
    expect(await resolveClaimCheck(inline, undefined)).toBe(inline);
  });

  it('fails with a stable code when the object is missing, altered, unreadable, or there is no store', async () => {
    const store = memory();
    const { claim } = await sendClaimChecked(envelope('{"id":"evt_1Claim","n":1}'), store);
    const message = store.sent[0]!;
    await expect(resolveClaimCheck(message, undefined)).rejects.toMatchObject({
      code: 'CLAIM_CHECK_NO_STORE',
    });

    store.objects.set(claim.key, Buffer.from('{"id":"evt_1Claim","n":2}'));
    await expect(resolveClaimCheck(message, store.claims)).rejects.toMatchObject({
      code: 'CLAIM_CHECK_MISMATCH',
      event: { provider: 'stripe', eventId: 'evt_1Claim', eventType: 'payment_intent.succeeded' },
    });

    store.objects.delete(claim.key);
    await expect(resolveClaimCheck(message, store.claims)).rejects.toMatchObject({
      code: 'CLAIM_CHECK_MISSING',
    });

    const failing = {
      get: async () => Promise.reject(Object.assign(new Error('denied'), { name: 'AccessDenied' })),
    };
    await expect(resolveClaimCheck(message, failing)).rejects.toMatchObject({
      code: 'CLAIM_CHECK_UNREADABLE',
    });

    const forged = message.replace('"key":"claim-check/', '"key":"reports/');
    await expect(resolveClaimCheck(forged, store.claims)).rejects.toMatchObject({
      code: 'CLAIM_CHECK_INVALID',
    });
  });
});

describe('enqueueEnvelope (backfill, sweep, revalidation, consistency resync)', () => {
  it('sends an envelope that fits one queue message inline, with no object', async () => {
    const store = memory();
    const small = envelope(JSON.stringify({ id: 'evt_1Claim', pad: 'x'.repeat(1000) }));
    const sent = await enqueueEnvelope(small, store);
    expect(sent.claim).toBeUndefined();
    expect(store.objects.size).toBe(0);
    expect(decodeEnvelope(store.sent[0]!)).toEqual(small);
  });

  it('claim-checks one beyond a queue message, and the consumer gets the exact envelope and key back', async () => {
    const store = memory();
    // Quotes escape once in the body and again in the envelope: 600 KiB of them exceed 1 MiB encoded.
    const large = envelope(JSON.stringify({ id: 'evt_1Claim', pad: '"'.repeat(600 * 1024) }));
    expect(Buffer.byteLength(JSON.stringify(large))).toBeGreaterThan(MAX_QUEUE_MESSAGE_BYTES);
    const sent = await enqueueEnvelope(large, store);
    expect(sent.claim?.key).toMatch(/^claim-check\/stripe\/[0-9a-f]{64}$/);
    expect(Buffer.byteLength(store.sent[0]!)).toBeLessThan(1024);
    const resolved = await resolveClaimMessage(store.sent[0]!, store.claims);
    expect(resolved.claim).toEqual(sent.claim);
    expect(decodeEnvelope(resolved.body)).toEqual(large);
  });

  it('refuses an oversized envelope without a store before sending anything, naming CLAIM_CHECK_BUCKET', async () => {
    const store = memory();
    const large = envelope(JSON.stringify({ id: 'evt_1Claim', pad: 'x'.repeat(MAX_QUEUE_MESSAGE_BYTES) }));
    await expect(enqueueEnvelope(large, { queue: store.queue })).rejects.toMatchObject({
      code: 'ENVELOPE_TOO_LARGE',
      message: expect.stringContaining('CLAIM_CHECK_BUCKET'),
    });
    expect(store.sent).toEqual([]);
  });

  it('checks the envelope against the schema first', async () => {
    const store = memory();
    await expect(enqueueEnvelope({ ...envelope('{}'), eventId: '' }, store)).rejects.toThrow();
    expect(store.sent).toEqual([]);
  });
});
