// The ledger: schema migrations, projections and the exactly-once consumer.
export * from './changes.ts';
export { createSql, type DbOptions, type Sql, type Tx } from './db.ts';
export { migrate, DEFAULT_MIGRATIONS_DIR } from './migrate.ts';
export { applyEnvelope, type ApplyOutcome, type EnvelopeNormalizer } from './consumer.ts';
export { applyChanges, type Anomaly } from './projections.ts';
