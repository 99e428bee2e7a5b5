// Stripe ingress: verify (node:crypto: one HMAC per secret over the raw bytes, one JSON.parse) → envelope (no
// second validation) → enqueue → 2xx. Nothing is acknowledged before the queue has it
// (design rule 1): a verification failure is a 400 (Stripe shows it to the operator and retries), an enqueue
// failure is a 5xx (Stripe retries for up to three days).

import { VerificationError } from '../errors.ts';
import { errorFields } from '../logger.ts';
import { verifyStripeWebhook } from '../providers/stripe/verify.ts';
import { fitsQueueMessage, serializeIngressEnvelope } from './envelope.ts';
import { type IngressDeps, type IngressRequest, type IngressResponse, json } from './types.ts';

// The acknowledgement never changes: serialised once per container.
const RECEIVED = JSON.stringify({ received: true });

export interface StripeIngressConfig {
  secrets: readonly string[];
  toleranceSeconds: number;
  maxBodyBytes: number;
}

export async function receiveStripeCallback(
  request: IngressRequest,
  config: StripeIngressConfig,
  deps: IngressDeps,
): Promise<IngressResponse> {
  const { logger, metrics, clock } = deps;
  const receivedAt = clock.now();
  const pathAccount = request.pathParameters.account;
  let event: ReturnType<typeof verifyStripeWebhook>;
  try {
    event = verifyStripeWebhook({
      rawBody: request.body,
      signatureHeader: request.headers['stripe-signature'],
      secrets: config.secrets,
      toleranceSeconds: config.toleranceSeconds,
      maxBodyBytes: config.maxBodyBytes,
      now: receivedAt,
    });
    // A per-account endpoint only takes that connected account's events.
    if (pathAccount !== undefined && pathAccount !== event.account) {
      throw new VerificationError(
        'STRIPE_ACCOUNT_MISMATCH',
        'event account does not match the endpoint path',
        400,
      );
    }
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    metrics.count('CallbackRejected', 1, { provider: 'stripe', reason: error.code });
    logger.warn('stripe callback rejected', {
      provider: 'stripe',
      reason: error.code,
      requestId: request.requestId,
    });
    return json(error.status, { error: error.code, message: error.message });
  }

  // One object for the callback's log line(s), built once: messageId is filled in after the send.
  const fields: Record<string, string | number> = {
    provider: 'stripe',
    eventId: event.id,
    eventType: event.type,
    account: event.account,
    requestId: request.requestId,
  };
  const message = serializeIngressEnvelope({
    v: 1,
    provider: 'stripe',
    eventId: event.id,
    eventType: event.type,
    account: event.account,
    occurredAt: event.created.toISOString(),
    receivedAt: receivedAt.toISOString(),
    rawBody: event.rawBody,
  });
  if (!fitsQueueMessage(message)) {
    // It would fail on every retry: say so (4xx) instead of a 5xx that only postpones it.
    metrics.count('CallbackRejected', 1, { provider: 'stripe', reason: 'ENVELOPE_TOO_LARGE' });
    logger.warn('stripe callback too large for a queue message', fields);
    return json(413, { error: 'ENVELOPE_TOO_LARGE', message: 'event too large to queue' });
  }
  try {
    const { messageId } = await deps.queue.send(message);
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
