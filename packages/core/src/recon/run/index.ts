// Reconciliation runs: sources (WeChat Pay bills, Stripe reports) → COPY into staging → SQL matching → heal →
// report files + recon_runs. Import as `@payhooks/core/recon/run/index`.
// Shared stages live in this folder; what is provider-specific (sources, staged lines, healers) in ../stripe and
// ../wechatpay, re-exported here so callers keep one import. The stages' internals (run repository, totals, heal
// loop) are not part of this surface.
export * from '../breaks/index.ts';
export * from '../consistency/sample.ts';
export {
  BREAK_CODES,
  BreakError,
  HealError,
  RECON_RUN_CODES,
  ReconNotReadyError,
  ReconRunError,
} from '../errors.ts';
export * from '../stripe/healer.ts';
export * from '../stripe/report-file.ts';
export * from '../stripe/report-source.ts';
export * from '../stripe/report-staging.ts';
export * from '../wechatpay/bill-file.ts';
export * from '../wechatpay/bill-records.ts';
export * from '../wechatpay/bill-source.ts';
export * from '../wechatpay/bill-staging.ts';
export * from '../wechatpay/healer.ts';
export * from './dates.ts';
export * from './file-input.ts';
export * from './matching.ts';
export * from './reconcile.ts';
export * from './report.ts';
export * from './report-index.ts';
export { loadReportedItems, matchedItemPages, STALE_RUN_MINUTES } from './run-repository.ts';
export { fileSource } from './source-files.ts';
export * from './staging.ts';
export * from './types.ts';
