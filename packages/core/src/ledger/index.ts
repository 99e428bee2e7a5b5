// The ledger: schema migrations, projections, the mirror-table registry and exactly-once apply through the inbox.

export {
  type ApplyOutcome,
  applyEnvelope,
  applyEnvelopeBatch,
  type BatchOutcome,
  commitEnvelopeBatch,
  type EnvelopeNormalizer,
} from './apply-envelopes.ts';
export * from './changes.ts';
export { createSql, type DbOptions, type Sql, type Tx } from './db.ts';
export {
  createDeliveryFailureRecorder,
  DELIVERY_FAILURE_RETENTION_DAYS,
  type DeliveryFailureNote,
  type DeliveryFailureQuery,
  type DeliveryFailureRecorder,
  type DeliveryFailureSummary,
  deliveryFailureKey,
  failureCode,
  latestDeliveryFailures,
  pruneDeliveryFailures,
  sanitizeFailureMessage,
} from './delivery-failures.ts';
export { arrayLiteral, arrayOfLiterals } from './literals.ts';
export {
  MerchantOrderError,
  type MerchantOrderInput,
  recordMerchantOrders,
  STRIPE_PLATFORM_ACCOUNT,
} from './merchant-orders.ts';
export {
  DATABASE_ROLES,
  DEFAULT_MIGRATIONS_DIR,
  migrate,
  scramVerifier,
  setRolePassword,
} from './migrate.ts';
export { type MirrorSpec, mirrorSpecFor, registerMirrorTables } from './mirrors.ts';
export {
  checkOrderKey,
  getOrderStatus,
  isOrderProvider,
  type OrderAnomaly,
  type OrderDispute,
  type OrderKey,
  type OrderPayment,
  type OrderProvider,
  type OrderRefund,
  type OrderState,
  type OrderStatus,
  OrderStatusError,
  orderState,
  orderStatusStatement,
} from './order-status.ts';
export { type Anomaly, applyChanges } from './projections.ts';
export {
  type PurgeRawPayloadsOptions,
  type PurgeRawPayloadsResult,
  purgeRawPayloads,
} from './retention.ts';
export {
  claimDueRevalidations,
  type DueRevalidation,
  markRevalidated,
  markRevalidationFailed,
  type ObjectTie,
  REVALIDATION_COOLDOWN_SECONDS,
} from './revalidations.ts';
export { listSettled, type SettledPayment, type SettledRefund } from './settled.ts';
export { LedgerError, type StatusOrder, type StatusTable } from './status.ts';
