// Case 3's logger: the production pino logger into /dev/null, counting why messages failed.
import { devNullLogger } from '../fixtures.ts';

/** The production logger to /dev/null, keeping the reasons of failed messages and batch fallbacks for the report. */
export function reasonLogger(reasons: Map<string, number>) {
  const inner = devNullLogger('bench-consumer');
  return {
    ...inner,
    error(message: string, fields?: Record<string, unknown>) {
      const reason = String(fields?.errorCode ?? fields?.errorMessage ?? message).slice(0, 120);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      inner.error(message, fields);
    },
    warn(message: string, fields?: Record<string, unknown>) {
      // A batch transaction that failed (the per-message fallback ran): counted, as it costs throughput.
      const reason = `warn: ${String(fields?.errorCode ?? fields?.errorMessage ?? message).slice(0, 120)}`;
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      inner.warn(message, fields);
    },
  };
}
