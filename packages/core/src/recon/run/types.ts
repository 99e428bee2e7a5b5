// Reconciliation run vocabulary: the staged line, the break classes, and the small ports a run needs (sources of
// provider lines, healers). Kept free of I/O so sources can be in-memory in tests and HTTP clients in production.
import type { Envelope } from '../../envelope.ts';
import type { Provider } from '../../ledger/changes.ts';

// `settlement`: a Stripe balance transaction as a payout reconciliation report lists it (a second view of money the
// balance change report states; only payout-links.ts reads it).
export const LINE_KINDS = ['payment', 'refund', 'payout', 'fee', 'fund_flow', 'settlement', 'other'] as const;
export type LineKind = (typeof LINE_KINDS)[number];

/** One provider line as staged in `recon_lines` (amounts exact, in minor units of `currency`). */
export interface ReconLine {
  /** Which file it came from: `tradebill`, `fundflowbill`, `sub-fundflowbill:<sub_mchid>`, `balance_change`, `payouts`. */
  source: string;
  /** Line (or record) number in that file: evidence for the report. */
  lineNo: number;
  kind: LineKind;
  /** WeChat 特约商户号 or Stripe connected account of the line, when the provider states one. */
  subAccount: string | null;
  providerPaymentId: string | null;
  providerRefundId: string | null;
  merchantOrderNo: string | null;
  merchantRefundNo: string | null;
  /** Balance transaction id, fund-flow id, …: the provider's own id of the line. */
  reference: string | null;
  payoutId: string | null;
  /** Magnitude compared with the ledger: payment amount, refund amount, payout amount. */
  amountMinor: bigint;
  /** feeScaled / 10^feeScale major units: WeChat fees have 5 decimals, Stripe fees the currency's exponent. */
  feeScaled: bigint;
  feeScale: number;
  currency: string;
  /** The provider's state in the ledger's vocabulary (`succeeded`, `canceled`, `pending`, …). */
  status: string | null;
  /** The state as the provider wrote it. */
  providerStatus: string | null;
  occurredAt: Date | null;
}

/**
 * Break classes. `matched`, `pending` and `pending_next_bill` (informational: see docs/reconciliation.md, midnight tolerance)
 * are not breaks; every other class is, until healed.
 */
export const ITEM_CLASSES = {
  matched: 'matched',
  missingInLedger: 'missing_in_ledger',
  missingAtProvider: 'missing_at_provider',
  amountMismatch: 'amount_mismatch',
  statusMismatch: 'status_mismatch',
  currencyMismatch: 'currency_mismatch',
  duplicate: 'duplicate',
  pendingNextBill: 'pending_next_bill',
  /** The provider lists it, the ledger has it still pending (a Stripe refund not settled at report time). */
  pending: 'pending',
  /** A Stripe payout whose linked balance transactions do not add up to its amount (breaks/payout-links.ts). */
  payoutMismatch: 'payout_mismatch',
} as const;
export type ItemClass = (typeof ITEM_CLASSES)[keyof typeof ITEM_CLASSES];

export const BREAK_CLASSES: readonly ItemClass[] = [
  'missing_in_ledger',
  'missing_at_provider',
  'amount_mismatch',
  'status_mismatch',
  'currency_mismatch',
  'duplicate',
  'payout_mismatch',
];

/** Classes a provider query can fix: the ledger is behind the provider. */
export const HEALABLE_CLASSES: readonly ItemClass[] = ['missing_in_ledger', 'status_mismatch'];

export const SUGGESTED_ACTIONS: Record<ItemClass, string> = {
  matched: '',
  missing_in_ledger:
    'the provider booked it but no callback reached the ledger: heal from the provider query (npm run cli -- recon run --force) or check the callback endpoint',
  missing_at_provider:
    'the ledger has it as succeeded but the provider bill does not: check the order with the provider; it may be a forged or misrouted event',
  amount_mismatch: 'amounts differ: compare the provider order with the ledger row and the merchant order',
  status_mismatch: 'states differ: query the provider; heal if the ledger is behind',
  currency_mismatch: 'currencies differ: check the merchant configuration and the order',
  duplicate:
    'the provider listed the same object more than once: raise it with the provider, do not double-count',
  payout_mismatch:
    'the payout does not equal the net of the balance transactions that name it: compare the payout in the Stripe Dashboard (Balance → Payouts) with the transactions listed for it',
  pending:
    'still pending at the provider when the report ran (a Stripe refund settles later): no action unless it stays pending',
  pending_next_bill:
    'succeeded within the midnight tolerance: expected in the next day’s bill; a break only if that bill lacks it too',
};

/** One item of a run as the report shows it (recon_items). */
export interface ReconItem {
  class: ItemClass;
  kind: LineKind;
  source: string | null;
  lineNo: number | null;
  providerPaymentId: string | null;
  providerRefundId: string | null;
  merchantOrderNo: string | null;
  merchantRefundNo: string | null;
  payoutId: string | null;
  billAmountMinor: bigint | null;
  ledgerAmountMinor: bigint | null;
  billCurrency: string | null;
  ledgerCurrency: string | null;
  billStatus: string | null;
  /** The provider's state as written in the file (REVOKED, CLOSED, REFUNDCLOSE, …). */
  billProviderStatus: string | null;
  ledgerStatus: string | null;
  feeScaled: bigint | null;
  feeScale: number | null;
  occurredAt: Date | null;
  detail: string | null;
  healedFrom: ItemClass | null;
  healNote: string | null;
}

/** What was verified about one downloaded source file; kept in recon_runs.source_files and summary.json. */
export interface SourceFileEvidence {
  name: string;
  /** No bill for the day (WeChat NO_STATEMENT_EXIST): an empty source, not a failure. */
  empty: boolean;
  /** Announced hash (WeChat hash_value), when the provider announces one. */
  expectedSha1: string | null;
  /** SHA-1 / SHA-256 of the bytes as downloaded, and of the plaintext that was parsed. */
  sha1Downloaded: string | null;
  sha1Plaintext: string | null;
  sha256Downloaded: string | null;
  bytes: number;
  rows: number;
  /** Provider-side totals of the file (the bill's own summary row, verified by the parser), as strings. */
  totals: Record<string, string>;
  /** Provider object behind it (Stripe report run id). */
  providerRef?: string;
  /** Per-part integrity of split/encrypted bills, as openBillParts reports it. */
  parts?: unknown[];
  /** `file`: a file finance supplied (`recon run --file`), not downloaded by the run; hashes are of that file. */
  origin?: 'file';
  /** Base name of that file. */
  fileName?: string;
}

/** Whole staging records (COPY csv, run/staging.ts STAGING_COLUMNS) as UTF-8 bytes, and how many. */
export interface StagedChunk {
  bytes: Uint8Array;
  records: number;
}

/** A file being read: lines stream out; evidence is complete once the lines ended without error. */
export interface SourceFile {
  name: string;
  lines: AsyncIterable<ReconLine>;
  /**
   * The same lines as staging CSV records (run/staging.ts STAGING_COLUMNS), written straight from the parsed rows
   * without a ReconLine each; reconcile() spools these when a file has them. Read either this or `lines`, once.
   */
  stagingRecords?(runId: string): AsyncIterable<string>;
  /**
   * The same records again, already encoded and joined into chunks (the WeChat Pay trade bill's byte-level path:
   * no row object, no text decode and re-encode per row); reconcile() prefers it to `stagingRecords`.
   */
  stagedChunks?(runId: string): AsyncIterable<StagedChunk>;
  /**
   * Fetches whatever reading the file needs from the network (the whole download, to a temporary copy), so that
   * reading it afterwards waits only on the disk and the CPU. A file with `prepare` and `stagingRecords` is read
   * inside the load transaction, its records streamed straight into the COPY (no spool); others are spooled first.
   * Only for a file whose reading the source's later files do not depend on (files() goes on before it is read).
   */
  prepare?(): Promise<void>;
  evidence(): SourceFileEvidence;
  /** The downloaded bytes (one entry per downloaded part), for keeping a file that failed verification. */
  kept(): Promise<{ name: string; body: Uint8Array }[]>;
  /** Deletes temporary copies. */
  dispose(): Promise<void>;
}

/** A provider's reconciliation input for one account and business date, file by file. */
export interface ReconSource {
  provider: Provider;
  account: string;
  files(): AsyncIterable<SourceFile>;
  /**
   * False: the files say nothing about the day's payments and refunds (a Stripe payouts or payout reconciliation
   * file given alone), so the ledger's side is not checked — nothing is `missing_at_provider`. Default true.
   */
  listsDayActivity?: boolean;
}

export interface RunWindow {
  businessDate: string;
  start: Date;
  end: Date;
}

/** A break the healer may fix. */
export interface HealCandidate {
  class: ItemClass;
  kind: LineKind;
  providerPaymentId: string | null;
  providerRefundId: string | null;
  merchantOrderNo: string | null;
  merchantRefundNo: string | null;
  payoutId: string | null;
  /**
   * WeChat Pay 特约商户号 of a service provider's sub-merchant object (the partner queries need it); when absent
   * the healer may look it up (WechatpayHealerOptions.subMerchantOf).
   */
  subAccount?: string | null;
}

/** Asks the provider about a break (recon/stripe/healer.ts, recon/wechatpay/healer.ts implement it). */
export interface Healer {
  /** Envelopes that bring the ledger up to date for the candidate; throws when the provider has no answer. */
  envelopes(candidate: HealCandidate): Promise<Envelope[]>;
}

/** Progress callbacks for the CLI and logs. */
export type ReconProgress =
  | { stage: 'claimed'; runId: string; attempt: number }
  | { stage: 'skipped'; reason: string }
  | { stage: 'file'; name: string }
  | { stage: 'lines'; name: string; lines: number }
  | { stage: 'file-done'; name: string; rows: number; empty: boolean }
  | { stage: 'matched'; counts: Record<string, number> }
  | { stage: 'healing'; candidates: number }
  | { stage: 'healed'; healed: number; failed: number }
  | { stage: 'published'; keys: string[] }
  | { stage: 'failed'; error: string };
