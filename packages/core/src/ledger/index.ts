// The ledger: schema migrations, projections and the exactly-once consumer.
export * from './changes.ts';
export {
  type ApplyOutcome,
  applyEnvelope,
  applyEnvelopeBatch,
  type BatchOutcome,
  type EnvelopeNormalizer,
} from './consumer.ts';
export { createSql, type DbOptions, type Sql, type Tx } from './db.ts';
export { type MerchantOrderInput, recordMerchantOrders } from './merchant-orders.ts';
export { DEFAULT_MIGRATIONS_DIR, migrate } from './migrate.ts';
export { type Anomaly, applyChanges } from './projections.ts';
export { listSettled, type SettledPayment, type SettledRefund } from './settled.ts';
