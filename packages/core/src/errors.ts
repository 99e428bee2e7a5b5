// Typed errors with a stable `code`: callers branch on `instanceof` or `code`, never on message text.
// Messages say what failed and what to check, and never carry secrets or payload contents.

export class PayhooksError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A callback failed authentication or validation at ingress. `status` is what the provider must receive. */
export class VerificationError extends PayhooksError {
  readonly status: number;
  constructor(code: string, message: string, status = 400, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

/** The queue message is not a valid envelope (wrong version, missing fields). */
export class EnvelopeError extends PayhooksError {}

/**
 * A claim-checked queue message cannot be resolved: its body object is missing, unreadable, or not the body the
 * reference's sha256 names. The message fails (back to the queue, then the DLQ) with this code as its reason.
 */
export class ClaimCheckError extends PayhooksError {
  /** The event the reference names, when the reference itself was readable (for the failure record). */
  event?: { provider: 'stripe' | 'wechatpay'; eventId: string; eventType: string };
}

/** A provider payload has a shape the normalizer does not understand: fail loudly, never write NULLs. */
export class NormalizeError extends PayhooksError {}

/** Authenticated decryption failed (wrong key, tampered ciphertext, wrong associated data). */
export class DecryptError extends PayhooksError {}

/** Configuration is missing or malformed. */
export class ConfigError extends PayhooksError {}

/** A decimal money string could not be converted exactly. */
export class MoneyError extends PayhooksError {}

/** The message could not be handed to the durable queue: the provider must get a 5xx and retry. */
export class EnqueueError extends PayhooksError {}
