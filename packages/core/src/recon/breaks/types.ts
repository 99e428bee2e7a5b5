// The vocabulary of breaks that live across runs: their states, the audit actions, and the shapes the console
// reads (list rows, the detail view, the daily overview and series). Amounts are bigint minor units; fees keep
// the provider's own scale (WeChat Pay states them to 5 decimals), so nothing here is rounded.
import type { Provider } from '../../ledger/changes.ts';

export const BREAK_STATES = ['open', 'healed', 'resolved', 'written_off'] as const;
export type BreakState = (typeof BREAK_STATES)[number];

export const BREAK_ACTIONS = [
  'detected',
  'redetected',
  'healed',
  'closed',
  'assigned',
  'noted',
  'resolved',
  'written_off',
  'reopened',
] as const;
export type BreakAction = (typeof BREAK_ACTIONS)[number];

/** The identity of a break in a run's report: its id, its age in days at that run's date, its state. */
export interface BreakRef {
  breakId: bigint;
  ageDays: number;
  state: BreakState;
}

/** One side of a break as the run that saw it last recorded it (recon_items). */
export interface BreakItemSnapshot {
  class: string;
  healedFrom: string | null;
  kind: string;
  source: string | null;
  lineNo: number | null;
  providerPaymentId: string | null;
  providerRefundId: string | null;
  payoutId: string | null;
  merchantOrderNo: string | null;
  merchantRefundNo: string | null;
  billAmountMinor: bigint | null;
  billCurrency: string | null;
  /** The provider's state in ledger vocabulary, and as the file wrote it (REVOKED, REFUNDCLOSE, a Stripe category). */
  billStatus: string | null;
  billProviderStatus: string | null;
  ledgerAmountMinor: bigint | null;
  ledgerCurrency: string | null;
  ledgerStatus: string | null;
  feeScaled: bigint | null;
  feeScale: number | null;
  occurredAt: string | null;
  detail: string | null;
  healNote: string | null;
}

/** A row of the break queue. */
export interface BreakSummary {
  id: bigint;
  provider: Provider;
  account: string;
  class: string;
  kind: string;
  objectKey: string;
  providerPaymentId: string | null;
  providerRefundId: string | null;
  payoutId: string | null;
  merchantOrderNo: string | null;
  merchantRefundNo: string | null;
  providerCurrency: string | null;
  providerAmountMinor: bigint | null;
  ledgerCurrency: string | null;
  ledgerAmountMinor: bigint | null;
  /** Magnitude of the provider's amount, else the ledger's: what amount filters compare. */
  amountMinor: bigint | null;
  state: BreakState;
  assignee: string | null;
  firstSeenDate: string;
  firstSeenRun: string;
  lastSeenDate: string;
  lastSeenRun: string;
  /** Days from the first-seen business date to the closing date (closed breaks) or to `asOf` (open ones). */
  ageDays: number;
  closedByRun: string | null;
  closedAt: Date | null;
  resolution: string | null;
  updatedAt: Date;
}

export interface BreakSighting {
  businessDate: string;
  runId: string;
  seenAt: Date;
  healedInRun: boolean;
  healNote: string | null;
  /** The later run of the same date that no longer found it. */
  goneRun: string | null;
  goneAt: Date | null;
}

export interface BreakEvent {
  id: bigint;
  at: Date;
  actor: string;
  action: BreakAction;
  note: string | null;
  fromState: BreakState | null;
  toState: BreakState | null;
  runId: string | null;
}

/** The ledger object behind a break, as the ledger holds it now. */
export interface BreakLedgerSide {
  table: 'payments' | 'refunds' | 'stripe.payouts';
  id: string;
  status: string | null;
  amountMinor: bigint | null;
  currency: string | null;
  merchantOrderNo: string | null;
  updatedAt: Date | null;
}

export interface BreakDetail extends BreakSummary {
  /** The provider's side (bill / report line incl. its raw status) and the ledger's, as the latest run saw them. */
  item: BreakItemSnapshot;
  /** The ledger's row now (it may have changed since the run), or null when the ledger has none. */
  ledger: BreakLedgerSide | null;
  /** Where runs saw it, and which run no longer did. */
  sightings: BreakSighting[];
  /** The events of the runs: detected, healed, closed, reopened, redetected (a subset of `events`). */
  healHistory: BreakEvent[];
  /** Every event, oldest first. */
  events: BreakEvent[];
}

export interface BreakListFilter {
  provider?: Provider;
  account?: string;
  class?: string;
  state?: BreakState;
  minAgeDays?: number;
  minAmountMinor?: bigint;
  maxAmountMinor?: bigint;
  /** Breaks a run of this business date found (YYYY-MM-DD). */
  businessDate?: string;
  /** Page size (1–500). */
  limit: number;
  /** The `nextCursor` of the previous page. */
  after?: string;
  /** The day ages of open breaks are counted to (YYYY-MM-DD; default: today, UTC). */
  asOf?: string;
}

export interface BreakPage {
  breaks: BreakSummary[];
  /** Pass as `after` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** Gross, fees and net of one currency for a day, from the provider's files (payouts excluded). */
export interface DayMoney {
  currency: string;
  /** Paid payments and settled refunds (count). */
  payments: number;
  refunds: number;
  /** Minor units: paid payments, settled refunds, and other signed balance changes (Stripe fees billed apart, disputes). */
  paymentsMinor: bigint;
  refundsMinor: bigint;
  otherMinor: bigint;
  /** paymentsMinor − refundsMinor + otherMinor. */
  grossMinor: bigint;
  /** Fees exactly as stated: feesScaled / 10^feeScale major units (WeChat Pay 5 decimals, Stripe the currency's). */
  feesScaled: bigint;
  feeScale: number;
  /** gross − fees, exactly, at `netScale` decimals (the larger of the currency's exponent and the fee scale). */
  netScaled: bigint;
  netScale: number;
  /** The same as decimal text in major units. */
  gross: string;
  fees: string;
  net: string;
}

export interface OverviewRow {
  provider: Provider;
  account: string;
  businessDate: string;
  run: {
    runId: string;
    status: 'running' | 'succeeded' | 'failed';
    attempt: number;
    startedAt: Date;
    finishedAt: Date | null;
    errorCode: string | null;
    /** The run of the published report (it may differ from `runId` while a re-run is going or after it failed). */
    publishedRunId: string | null;
  } | null;
  matched: number;
  /** Breaks runs of this date found, per class (any state), and of those the open ones. */
  breaksByClass: Record<string, number>;
  openByClass: Record<string, number>;
  money: DayMoney[];
}

export interface OverviewFilter {
  provider?: Provider;
  account?: string;
  businessDate: string;
}

export interface SeriesFilter {
  provider?: Provider;
  account?: string;
  /** How many days back from `to` (inclusive), e.g. 30. */
  days: number;
  /** Last day of the series (YYYY-MM-DD; default: today, UTC). */
  to?: string;
}

export interface SeriesDay {
  businessDate: string;
  provider: Provider;
  account: string;
  /** Paid payments and settled refunds of the day (count, all currencies). */
  volume: number;
  /** Gross (payments − refunds + other) per currency, minor units. */
  amountByCurrency: Record<string, bigint>;
  breaksByClass: Record<string, number>;
}
