// Errors the handlers throw on purpose: each extends PayhooksError with a stable `code`, so alarms, logs and
// callers branch on the class or the code, never on the message.
import { PayhooksError } from '@payhooks/core/errors';
import type { ReconcileResult } from '@payhooks/core/recon/run';

/** Every record of a batch failed: thrown so the invocation counts as an error (consumer-errors alarm). */
export class BatchFailedError extends PayhooksError {
  constructor(count: number) {
    super('CONSUMER_BATCH_FAILED', `All records failed processing (${count})`);
  }
}

/** The batch transaction committed but returned no outcome for a message: it is retried, never assumed applied. */
export class MissingOutcomeError extends PayhooksError {
  constructor() {
    super('CONSUMER_NO_OUTCOME', 'no outcome');
  }
}

/** A reconciliation run failed (or was still not ready at its last attempt): the Recon…Failed alarms count it. */
export class ReconFailedError extends PayhooksError {
  constructor(readonly results: readonly ReconcileResult[]) {
    super(
      'RECON_FAILED',
      `reconciliation failed for ${results.map((r) => `${r.provider}/${r.account || 'platform'}/${r.businessDate}: ${r.error?.code ?? r.status}`).join(', ')}`,
    );
  }
}

/** The pending-order sweep could not query some orders (other than "still unpaid"): the sweep alarm counts it. */
export class SweepFailedError extends PayhooksError {
  constructor(
    readonly failures: number,
    firstCode: string,
  ) {
    super('SWEEP_QUERY_FAILED', `sweep could not query ${failures} order(s): ${firstCode}`);
  }
}

/** A merchant asked for by id or mchid is not in the configuration. */
export class UnknownMerchantError extends PayhooksError {
  constructor(wanted: string) {
    super('WECHATPAY_UNKNOWN_MERCHANT', `no WeChat Pay merchant "${wanted}" is configured (id or mchid)`);
  }
}
