// Reconciliation runs: sources (WeChat Pay bills, Stripe reports) → COPY into staging → SQL matching → heal →
// report files + recon_runs. Import as `@payhooks/core/recon/run/index`.
export * from './dates.ts';
export * from './heal.ts';
export * from './lines.ts';
export * from './matching.ts';
export * from './reconcile.ts';
export * from './report.ts';
export * from './sources.ts';
export * from './staging.ts';
export * from './types.ts';
