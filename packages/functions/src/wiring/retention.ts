// The raw_payload purge's wiring (Lambda purge-raw-payloads, daily): the retention from
// RAW_PAYLOAD_RETENTION_DAYS (the stacks set it per stage), the ledger as the application role, bounded batches
// so one run ends well inside the function timeout (the next run continues).
import { ConfigError } from '@payhooks/core/errors';
import { type PurgeRawPayloadsResult, purgeRawPayloads, type Sql } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import { type Clock, type Logger, type Metrics, systemClock } from '@payhooks/core/ports';
import { metricsFor } from '../adapters/metrics.ts';
import { type Env, integer, once, required } from '../config.ts';
import { sqlFromEnv } from './db.ts';

export interface RawPayloadPurgeOptions {
  sql?: Sql;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
}

export function retentionDaysFromEnv(env: Env): number {
  required(env, 'RAW_PAYLOAD_RETENTION_DAYS');
  const days = integer(env, 'RAW_PAYLOAD_RETENTION_DAYS', 0);
  if (days < 1) throw new ConfigError('CONFIG_INVALID', 'RAW_PAYLOAD_RETENTION_DAYS must be at least 1');
  return days;
}

export function createRawPayloadPurgeHandler(
  env: Env,
  options: RawPayloadPurgeOptions = {},
): () => Promise<PurgeRawPayloadsResult> {
  const logger = options.logger ?? createLogger({ name: 'purge-raw-payloads' });
  const metrics = options.metrics ?? metricsFor('purge-raw-payloads', env);
  const clock = options.clock ?? systemClock;
  // Configuration first: a missing retention fails before any connection is set up.
  const setup = once(async () => ({
    retentionDays: retentionDaysFromEnv(env),
    maxBatches: integer(env, 'RAW_PAYLOAD_PURGE_MAX_BATCHES', 100),
    sql: options.sql ?? sqlFromEnv(env, 'payhooks-purge'),
  }));
  return async () => {
    const { sql, retentionDays, maxBatches } = await setup();
    const result = await purgeRawPayloads(sql, { retentionDays, now: clock.now(), maxBatches });
    metrics.count('RawPayloadsPurged', result.purged);
    logger.info('raw payloads purged', { ...result, cutoff: result.cutoff.toISOString(), retentionDays });
    return result;
  };
}
