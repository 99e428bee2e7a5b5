// What the console API is built from: explicit dependencies, given by the Lambda wiring (functions) or the local
// runtime — never read from the environment here.
import type { Sql } from '@payhooks/core/ledger';
import type { Clock, Logger, ObjectStore } from '@payhooks/core/ports';

export interface ConsoleApiDeps {
  sql: Sql;
  /** The reports store; its `link` gives the short-lived download links (pre-signed S3, or the local gateway's). */
  reports: ObjectStore;
  /** How long a download link lives. Default 300 s. */
  linkSeconds?: number;
  clock: Clock;
  logger: Logger;
  /** Origins allowed for state changes besides the request's own host. */
  allowedOrigins?: readonly string[];
  /** Stripe metadata key holding the merchant order number, for uploaded Stripe report files. */
  stripeOrderMetadataKey?: string;
}
