// Claim check: a verified body whose envelope does not fit one queue message is stored as an object under a
// content-addressed key, and the queue carries a reference to it (key, sha256, size) instead of the body. The
// consumer reads the object back and checks its hash before anything is applied (resolveClaimCheck), so a
// missing or altered object fails the message with a reason instead of booking something else. Every producer
// (ingress, backfill, sweep, revalidation, consistency resync) sends through sendEnvelope, the one place that
// decides inline or claim check. The consumer removes an object once the batch that applied its event (or found
// it a duplicate) committed; a later copy of the message then finds no object but its event in the inbox
// (eventsInInbox) and is a duplicate. The bucket's lifecycle expiry stays as the backstop for objects whose
// removal failed or whose message never arrived (docs/decisions.md "Claim check: removed after apply").
// zod-free: ingress imports it (cold start).
import crypto from 'node:crypto';
import { ClaimCheckError, EnvelopeError } from '../errors.ts';
import type { Sql } from '../ledger/db.ts';
import type { ObjectStore, Queue } from '../ports.ts';
import { fitsQueueMessage, type IngressEnvelope } from './envelope.ts';

/** Every claim-check object lives under this prefix; producers may write only there (IAM, stacks/Queue.ts). */
export const CLAIM_CHECK_PREFIX = 'claim-check/';

export interface ClaimReference {
  /** `claim-check/<provider>/<sha256 hex>`: the same body always gets the same key. */
  key: string;
  /** Hex SHA-256 of the stored bytes (the raw body, UTF-8). */
  sha256: string;
  bytes: number;
}

/** The queue message of a claim-checked event: the envelope's fields, with `claim` in place of `rawBody`. */
export type ClaimEnvelope = Omit<IngressEnvelope, 'rawBody'> & {
  claim: ClaimReference;
  source?: 'eventbridge';
};

/** What a producer needs of the object store. */
export type ClaimStore = Pick<ObjectStore, 'put'>;
/** What the consumer needs of it: read a body back, remove it once its event is in the inbox. */
export type ClaimReader = Pick<ObjectStore, 'get'> & {
  /** Removes the object; removing one that is already gone succeeds (as S3's DeleteObject does). */
  delete(key: string): Promise<void>;
};

// Producers write `v` then `claim` first, so the consumer tells a reference from an inline envelope by its first
// bytes without parsing a large inline one (an inline rawBody cannot start a message this way).
const CLAIM_MESSAGE_START = '{"v":1,"claim":';

export function claimCheckKey(provider: string, sha256: string): string {
  return `${CLAIM_CHECK_PREFIX}${provider}/${sha256}`;
}

const sha256Hex = (bytes: Uint8Array) => crypto.createHash('sha256').update(bytes).digest('hex');

/**
 * Stores the envelope's body and sends the reference. Resolves once both are durable (the object before the
 * message: a message never refers to an object that was not written). Either failing rejects: the caller answers
 * 5xx so the provider retries, and a retry writes the same key again.
 */
export async function sendClaimChecked(
  envelope: IngressEnvelope & { source?: 'eventbridge' },
  deps: { queue: Queue; claims: ClaimStore },
): Promise<{ messageId: string; claim: ClaimReference }> {
  const body = Buffer.from(envelope.rawBody, 'utf8');
  const sha256 = sha256Hex(body);
  const claim: ClaimReference = {
    key: claimCheckKey(envelope.provider, sha256),
    sha256,
    bytes: body.byteLength,
  };
  await deps.claims.put(claim.key, body, 'application/json');
  const { rawBody: _body, v, ...fields } = envelope;
  const { messageId } = await deps.queue.send(JSON.stringify({ v, claim, ...fields }));
  return { messageId, claim };
}

/** Where a producer sends envelopes: the queue, and the claim-check store for those too large for one message. */
export interface EnvelopeQueue {
  queue: Queue;
  /** Absent: no store is configured (an envelope beyond one queue message is refused, ENVELOPE_TOO_LARGE). */
  claims?: ClaimStore | undefined;
}

/**
 * The one way envelopes enter the queue: inline when the encoded envelope (`message`: ingress's inline-body
 * text, or encodeEnvelope's) fits one queue message, else by claim check. Without a store an oversized envelope throws
 * EnvelopeError ENVELOPE_TOO_LARGE naming CLAIM_CHECK_BUCKET, before anything is sent.
 */
export async function sendEnvelope(
  envelope: IngressEnvelope & { source?: 'eventbridge' },
  deps: EnvelopeQueue,
  message: string,
): Promise<{ messageId: string; claim?: ClaimReference }> {
  if (fitsQueueMessage(message)) return deps.queue.send(message);
  if (!deps.claims)
    throw new EnvelopeError(
      'ENVELOPE_TOO_LARGE',
      `envelope of ${envelope.provider} event ${envelope.eventId} exceeds one queue message and no claim-check store is configured (CLAIM_CHECK_BUCKET)`,
    );
  return sendClaimChecked(envelope, { queue: deps.queue, claims: deps.claims });
}

/**
 * Of the given events, those whose (provider, event id) is in the inbox, as `provider:eventId`: a claim-check
 * message whose object is gone is a duplicate exactly when its event is there (objects are removed only after
 * the transaction that put the event in the inbox committed).
 */
export async function eventsInInbox(
  sql: Sql,
  events: readonly { provider: string; eventId: string }[],
): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const rows = await sql.unsafe<{ provider: string; event_id: string }[]>(
    `select provider, event_id from inbox_events
      where (provider, event_id) in (select * from unnest($1::text[], $2::text[]))`,
    [events.map((e) => e.provider), events.map((e) => e.eventId)],
  );
  return new Set(rows.map((row) => `${row.provider}:${row.event_id}`));
}

export function isClaimMessage(body: string): boolean {
  return body.startsWith(CLAIM_MESSAGE_START);
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

function parseReference(body: string): { fields: Record<string, unknown>; claim: ClaimReference } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    throw new ClaimCheckError('CLAIM_CHECK_INVALID', 'claim-check message is not JSON', { cause });
  }
  const { claim, ...fields } = parsed as { claim?: Partial<ClaimReference> } & Record<string, unknown>;
  if (
    !claim ||
    typeof claim.key !== 'string' ||
    !claim.key.startsWith(CLAIM_CHECK_PREFIX) ||
    typeof claim.sha256 !== 'string' ||
    !HEX_SHA256.test(claim.sha256) ||
    !Number.isSafeInteger(claim.bytes) ||
    'rawBody' in fields
  ) {
    throw new ClaimCheckError(
      'CLAIM_CHECK_INVALID',
      'claim-check message needs claim.key under claim-check/, a hex claim.sha256 and claim.bytes, and no rawBody',
    );
  }
  return { fields, claim: claim as ClaimReference };
}

/**
 * The queue message as the rest of the consumer knows it: an inline envelope is returned as it is; a claim-check
 * reference is replaced by the envelope with the stored body, after its size and SHA-256 matched the reference.
 * Throws ClaimCheckError: CLAIM_CHECK_MISSING (no object), CLAIM_CHECK_UNREADABLE (the store failed; in S3 a
 * missing object without s3:ListBucket reads as AccessDenied), CLAIM_CHECK_MISMATCH, CLAIM_CHECK_INVALID.
 */
export async function resolveClaimCheck(
  body: string,
  store: Pick<ObjectStore, 'get'> | undefined,
): Promise<string> {
  return (await resolveClaimMessage(body, store)).body;
}

/** resolveClaimCheck, also naming the reference it resolved (the consumer removes its object after apply). */
export async function resolveClaimMessage(
  body: string,
  store: Pick<ObjectStore, 'get'> | undefined,
): Promise<{ body: string; claim?: ClaimReference }> {
  if (!isClaimMessage(body)) return { body };
  const { fields, claim } = parseReference(body);
  try {
    return { body: await resolveReference(fields, claim, store), claim };
  } catch (error) {
    if (error instanceof ClaimCheckError) {
      const { provider, eventId, eventType } = fields;
      if ((provider === 'stripe' || provider === 'wechatpay') && typeof eventId === 'string')
        error.event = { provider, eventId, eventType: typeof eventType === 'string' ? eventType : '' };
    }
    throw error;
  }
}

async function resolveReference(
  fields: Record<string, unknown>,
  claim: ClaimReference,
  store: Pick<ObjectStore, 'get'> | undefined,
): Promise<string> {
  if (!store)
    throw new ClaimCheckError(
      'CLAIM_CHECK_NO_STORE',
      `message refers to ${claim.key} but no claim-check store is configured (CLAIM_CHECK_BUCKET)`,
    );
  let bytes: Uint8Array | undefined;
  try {
    bytes = await store.get(claim.key);
  } catch (cause) {
    throw new ClaimCheckError('CLAIM_CHECK_UNREADABLE', `claim-check object ${claim.key} cannot be read`, {
      cause,
    });
  }
  if (bytes === undefined)
    throw new ClaimCheckError('CLAIM_CHECK_MISSING', `claim-check object ${claim.key} does not exist`);
  const actual = sha256Hex(bytes);
  if (bytes.byteLength !== claim.bytes || actual !== claim.sha256) {
    throw new ClaimCheckError(
      'CLAIM_CHECK_MISMATCH',
      `claim-check object ${claim.key} is ${bytes.byteLength} bytes with sha256 ${actual}, not the ${claim.bytes} bytes the message names`,
    );
  }
  let rawBody: string;
  try {
    rawBody = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (cause) {
    throw new ClaimCheckError('CLAIM_CHECK_INVALID', `claim-check object ${claim.key} is not UTF-8`, {
      cause,
    });
  }
  return JSON.stringify({ ...fields, rawBody });
}
