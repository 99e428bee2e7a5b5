// Breaks that live across runs: the register a run writes (sync, run-register), what people do to a break
// (break-actions) and what the console reads (queries). Re-exported by recon/run/index.ts.
export * from './break-actions.ts';
export { type PayoutSettlement, payoutSettlements, payoutTransactions } from './payout-links.ts';
export { breakEvents, dayMoney, getBreak, listBreaks, reconOverview, reconSeries } from './queries.ts';
export { breakObjectKey, breakRefKey, isRegisteredBreak, type RunBreaksOutcome } from './sync.ts';
export * from './types.ts';
