// Stripe ingress: verify (node:crypto: one HMAC per secret over the raw bytes, one JSON.parse) → envelope (no
// second validation) → enqueue → 2xx. Nothing is acknowledged before the queue has it
// (design rule 1): a verification failure is a 400 (Stripe shows it to the operator and retries), an enqueue
// failure is a 5xx (Stripe retries for up to three days). `/webhooks/stripe/{account}` names a configured Stripe
// account (its endpoint secrets); an unconfigured one is answered like a wrong signature (docs/decisions.md,
// "Stripe accounts by path").

import crypto from 'node:crypto';
import { VerificationError } from '../errors.ts';
import { isoTime } from '../iso-time.ts';
import { errorFields } from '../logger.ts';
import { verifyStripeWebhook } from '../providers/stripe/verify.ts';
import { sendEnvelope } from './claim-check.ts';
import { fitsQueueMessage, type IngressEnvelope, serializeIngressEnvelope } from './envelope.ts';
import { type IngressDeps, type IngressRequest, type IngressResponse, json } from './types.ts';

// The acknowledgement never changes: serialised once per container.
const RECEIVED = JSON.stringify({ received: true });

export interface StripeIngressConfig {
  /** Endpoint secrets of the default account: `POST /webhooks/stripe` and `/webhooks/stripe/default`. */
  secrets: readonly string[];
  /**
   * Further independent Stripe accounts, by configured id: `POST /webhooks/stripe/{id}` takes only events signed
   * with that account's endpoint secrets; their own events are booked under the id (Connect events under acct_…).
   */
  accounts?: ReadonlyMap<string, readonly string[]>;
  toleranceSeconds: number;
  maxBodyBytes: number;
}

/** The path segment of the default account (the bare path's). */
export const DEFAULT_STRIPE_ACCOUNT = 'default';

interface StripeRoute {
  secrets: readonly string[];
  /** The envelope's account for events that name no connected account: '' (default account) or the id. */
  ledgerAccount: string;
  /** The path names no configured account: logged, never told to the caller. */
  unknown: boolean;
}

// A secret no one holds: an unconfigured account path is verified against it, so the caller gets exactly the
// answer a configured endpoint gives a wrong signature (same checks, same order, one HMAC) and cannot tell which
// account ids exist.
const DECOY_SECRETS: readonly string[] = [`whsec_${crypto.randomBytes(32).toString('base64url')}`];

function routeOf(pathAccount: string | undefined, config: StripeIngressConfig): StripeRoute {
  const isDefault = pathAccount === undefined || pathAccount === '' || pathAccount === DEFAULT_STRIPE_ACCOUNT;
  if (isDefault) {
    // Only named accounts configured: the bare path belongs to no one.
    if (config.secrets.length === 0 && config.accounts && config.accounts.size > 0)
      return { secrets: DECOY_SECRETS, ledgerAccount: '', unknown: true };
    return { secrets: config.secrets, ledgerAccount: '', unknown: false };
  }
  const secrets = config.accounts?.get(pathAccount);
  return secrets
    ? { secrets, ledgerAccount: pathAccount, unknown: false }
    : { secrets: DECOY_SECRETS, ledgerAccount: '', unknown: true };
}

export async function receiveStripeCallback(
  request: IngressRequest,
  config: StripeIngressConfig,
  deps: IngressDeps,
): Promise<IngressResponse> {
  const { logger, metrics, clock } = deps;
  const receivedAt = clock.now();
  const route = routeOf(request.pathParameters.account, config);
  let event: ReturnType<typeof verifyStripeWebhook>;
  try {
    event = verifyStripeWebhook({
      rawBody: request.body,
      signatureHeader: request.headers['stripe-signature'],
      secrets: route.secrets,
      toleranceSeconds: config.toleranceSeconds,
      maxBodyBytes: config.maxBodyBytes,
      now: receivedAt,
    });
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    metrics.count('CallbackRejected', 1, { provider: 'stripe', reason: error.code });
    logger.warn('stripe callback rejected', {
      provider: 'stripe',
      reason: error.code,
      // The operator's log may say what the caller is not told (an id from the path, never a secret).
      ...(route.unknown ? { unknownAccountPath: request.pathParameters.account ?? '' } : {}),
      requestId: request.requestId,
    });
    return json(error.status, { error: error.code, message: error.message });
  }

  // A Connect event names its connected account; an account's own event is booked under the endpoint's account.
  const account = event.account || route.ledgerAccount;
  // One object for the callback's log line(s), built once: messageId is filled in after the send.
  const fields: Record<string, string | number> = {
    provider: 'stripe',
    eventId: event.id,
    eventType: event.type,
    account,
    requestId: request.requestId,
  };
  const envelope: IngressEnvelope = {
    v: 1,
    provider: 'stripe',
    eventId: event.id,
    eventType: event.type,
    account,
    occurredAt: isoTime(event.created.getTime()),
    receivedAt: isoTime(receivedAt.getTime()),
    rawBody: event.rawBody,
  };
  const message = serializeIngressEnvelope(envelope);
  const claimCheck = !fitsQueueMessage(message);
  if (claimCheck && !deps.claims) {
    // It would fail on every retry: say so (4xx) instead of a 5xx that only postpones it.
    metrics.count('CallbackRejected', 1, { provider: 'stripe', reason: 'ENVELOPE_TOO_LARGE' });
    logger.warn('stripe callback too large for a queue message', fields);
    return json(413, { error: 'ENVELOPE_TOO_LARGE', message: 'event too large to queue' });
  }
  try {
    const { messageId } = await sendEnvelope(envelope, deps, message);
    if (claimCheck) {
      metrics.count('CallbackClaimChecked', 1, { provider: 'stripe' });
      fields.claimCheckBytes = event.rawBody.length;
    }
    metrics.count('CallbackAccepted', 1, { provider: 'stripe' });
    if (event.secretIndex > 0) metrics.count('CallbackRotatedSecret', 1, { provider: 'stripe' });
    fields.messageId = messageId;
    fields.secretIndex = event.secretIndex;
    logger.info('stripe callback enqueued', fields);
    return { status: 200, headers: { 'content-type': 'application/json' }, body: RECEIVED };
  } catch (error) {
    metrics.count('CallbackEnqueueFailed', 1, { provider: 'stripe' });
    logger.error('stripe callback could not be enqueued; answering 5xx so Stripe retries', {
      ...fields,
      ...errorFields(error),
    });
    return json(503, { error: 'ENQUEUE_FAILED', message: 'temporarily unable to accept the event; retry' });
  }
}
