// Typed errors of reconciliation: the parsing layer (bills, reports) and the run (sources, healing, publication).
// Callers branch on `instanceof` and `code`; messages name the line, column or total that failed but never carry
// row contents (bills hold payer ids and order data).
import { PayhooksError } from '../errors.ts';

/** Codes of BillFormatError (WeChat Pay bills: framing, columns, values, summary). */
export const BILL_FORMAT_CODES = {
  /** Invalid UTF-8, or a chunk that is neither text nor bytes. */
  encoding: 'BILL_ENCODING',
  /** A line longer than `maxLineLength` (a file without newlines must not exhaust memory). */
  lineTooLong: 'BILL_LINE_TOO_LONG',
  /** No header line before the first detail row, or an empty file. */
  headerMissing: 'BILL_HEADER_MISSING',
  /** A header names a column this parser does not know. */
  unknownColumn: 'BILL_UNKNOWN_COLUMN',
  /** A required column is absent from the header. */
  missingColumn: 'BILL_MISSING_COLUMN',
  /** The same column appears twice in a header. */
  duplicateColumn: 'BILL_DUPLICATE_COLUMN',
  /** A detail or summary row has more or fewer fields than its header. */
  fieldCount: 'BILL_FIELD_COUNT',
  /** An amount is not a plain decimal or has more decimals than its scale allows. */
  badAmount: 'BILL_BAD_AMOUNT',
  /** A time, count, currency or enumerated value is malformed. */
  badValue: 'BILL_BAD_VALUE',
  /** The file ended without a summary header and summary row. */
  summaryMissing: 'BILL_SUMMARY_MISSING',
  /** A summary total differs from the total of the detail rows (see BillSummaryMismatchError). */
  summaryMismatch: 'BILL_SUMMARY_MISMATCH',
  /** Non-blank content after the summary row. */
  trailingContent: 'BILL_TRAILING_CONTENT',
  /** The gzip container is corrupt or truncated. */
  gzip: 'BILL_GZIP',
  /** Bill parts are missing, duplicated, or fewer/more than announced. */
  partSequence: 'BILL_PART_SEQUENCE',
  /** `summary()` was asked before the rows were read to the end, or the rows were iterated twice. */
  incomplete: 'BILL_INCOMPLETE',
  /** The writer was given a value it cannot encode (newline, the ",`" separator, bad time). */
  unencodable: 'BILL_UNENCODABLE',
} as const;
export type BillFormatCode = (typeof BILL_FORMAT_CODES)[keyof typeof BILL_FORMAT_CODES];

export interface BillErrorDetails {
  /** 1-based line number in the (decompressed, decrypted) bill text. */
  line?: number;
  /** Normalised header name of the column at fault. */
  column?: string;
  cause?: unknown;
}

/** A WeChat Pay bill does not follow the documented format, or is internally inconsistent. */
export class BillFormatError extends PayhooksError {
  declare readonly code: BillFormatCode;
  readonly line: number | null;
  readonly column: string | null;
  constructor(code: BillFormatCode, message: string, details: BillErrorDetails = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.line = details.line ?? null;
    this.column = details.column ?? null;
  }
}

/** The bill's summary row declares a total that the detail rows do not add up to. */
export class BillSummaryMismatchError extends BillFormatError {
  /** Summary column that differs, e.g. `应结订单总金额` or `总交易单数`. */
  readonly total: string;
  /** Value declared by the bill, in the unit of the total (count, fen, or fee at 1e-5 yuan). */
  readonly declared: bigint;
  /** Value computed from the detail rows. */
  readonly computed: bigint;
  constructor(total: string, declared: bigint, computed: bigint, line: number) {
    super(
      BILL_FORMAT_CODES.summaryMismatch,
      `bill summary "${total}" declares ${declared} but the detail rows add up to ${computed} (summary line ${line}); ` +
        'the file is incomplete or corrupt: fetch it again before reconciling',
      { line, column: total },
    );
    this.total = total;
    this.declared = declared;
    this.computed = computed;
  }
}

export const BILL_HASH_CODES = {
  mismatch: 'BILL_HASH_MISMATCH',
  /** The expected hash is not 40 hex digits, or the hash type is not SHA1. */
  invalid: 'BILL_HASH_INVALID',
} as const;
export type BillHashCode = (typeof BILL_HASH_CODES)[keyof typeof BILL_HASH_CODES];

/** Which bytes a hash is computed over: as downloaded, after decryption, or the final bill text. */
export type BillHashStage = 'downloaded' | 'decrypted' | 'plaintext';

/** The downloaded bill does not have the SHA-1 the bill API announced: fail the run and keep the file. */
export class BillHashMismatchError extends PayhooksError {
  declare readonly code: BillHashCode;
  readonly expected: string;
  /** Hash of the stage that was checked (`stage`); empty for BILL_HASH_INVALID. */
  readonly actual: string;
  readonly stage: BillHashStage;
  /** Other stages whose hash does equal the expected one: tells the operator which way the provider hashes. */
  readonly matchingStages: readonly BillHashStage[];
  /** bill_sequence of the part, for split bills. */
  readonly part: number | null;
  constructor(
    code: BillHashCode,
    message: string,
    details: {
      expected: string;
      actual?: string;
      stage: BillHashStage;
      matchingStages?: readonly BillHashStage[];
      part?: number | null;
    },
  ) {
    super(code, message);
    this.expected = details.expected;
    this.actual = details.actual ?? '';
    this.stage = details.stage;
    this.matchingStages = details.matchingStages ?? [];
    this.part = details.part ?? null;
  }
}

/** Codes used with DecryptError (from ../errors.ts) by the bill decryption helpers. */
export const BILL_DECRYPT_CODES = {
  /** RSA-OAEP unwrapping of `encrypt_key` failed (wrong merchant key, corrupt base64). */
  key: 'BILL_DECRYPT_KEY',
  /** The unwrapped key is not 32 bytes (nor base64/hex of 32 bytes). */
  keyLength: 'BILL_DECRYPT_KEY_LENGTH',
  /** Empty nonce. */
  nonce: 'BILL_DECRYPT_NONCE',
  /** The file is shorter than the 16-byte tag. */
  truncated: 'BILL_DECRYPT_TRUNCATED',
  /** GCM authentication failed: tampered file, wrong key or wrong nonce. */
  auth: 'BILL_DECRYPT_AUTH',
} as const;
export type BillDecryptCode = (typeof BILL_DECRYPT_CODES)[keyof typeof BILL_DECRYPT_CODES];

/** Codes of ReportFormatError (Stripe report CSVs). */
export const REPORT_FORMAT_CODES = {
  encoding: 'REPORT_ENCODING',
  /** CSV syntax error (unbalanced quotes, record too large). */
  csv: 'REPORT_CSV',
  headerMissing: 'REPORT_HEADER_MISSING',
  missingColumn: 'REPORT_MISSING_COLUMN',
  duplicateColumn: 'REPORT_DUPLICATE_COLUMN',
  fieldCount: 'REPORT_FIELD_COUNT',
  badAmount: 'REPORT_BAD_AMOUNT',
  badValue: 'REPORT_BAD_VALUE',
  /** gross − fee ≠ net on a row. */
  netMismatch: 'REPORT_NET_MISMATCH',
  incomplete: 'REPORT_INCOMPLETE',
  unencodable: 'REPORT_UNENCODABLE',
} as const;
export type ReportFormatCode = (typeof REPORT_FORMAT_CODES)[keyof typeof REPORT_FORMAT_CODES];

/** A Stripe report CSV does not have the expected shape or holds a value that cannot be converted exactly. */
export class ReportFormatError extends PayhooksError {
  declare readonly code: ReportFormatCode;
  readonly line: number | null;
  readonly column: string | null;
  constructor(code: ReportFormatCode, message: string, details: BillErrorDetails = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.line = details.line ?? null;
    this.column = details.column ?? null;
  }
}

/** Codes of the errors a reconciliation run throws itself (recon_runs.error_code when a run fails on them). */
export const RECON_RUN_CODES = {
  /** The provider has not published the business day's data yet: try later (a `not_ready` result). */
  notReady: 'RECON_NOT_READY',
  /** A newer run claimed the date before this one flipped latest.json: nothing was published. */
  superseded: 'RECON_RUN_SUPERSEDED',
  /** A stale-run takeover happened while this run was publishing: it must not claim success. */
  takenOver: 'RECON_RUN_TAKEN_OVER',
  /** Configuration the source needs is missing (e.g. the merchant private key for sub-merchant bills). */
  config: 'RECON_CONFIG',
  /** A Stripe report run succeeded without a file to download. */
  reportNoFile: 'RECON_REPORT_NO_FILE',
  /** The healer cannot query the provider for this break (no id to query, or a kind it does not heal). */
  healUnsupported: 'RECON_HEAL_UNSUPPORTED',
  /** A bill or report download failed or was cut before its end (network, provider closed the connection). */
  download: 'RECON_DOWNLOAD',
} as const;

/** The business day's data is not available at the provider yet: try again later (not a failure of the data). */
export class ReconNotReadyError extends PayhooksError {}

/** The run lost its claim on the date while publishing (superseded or taken over). */
export class ReconRunError extends PayhooksError {}

/** A break the healer cannot ask the provider about; recorded in the item's heal note. */
export class HealError extends PayhooksError {
  constructor(message: string) {
    super(RECON_RUN_CODES.healUnsupported, message);
  }
}

/** Codes of BreakError: what a break action or a break query refused. */
export const BREAK_CODES = {
  /** No break has this id. */
  notFound: 'BREAK_NOT_FOUND',
  /** The action is not allowed in the break's state (e.g. resolving a written-off break). */
  invalidTransition: 'BREAK_INVALID_TRANSITION',
  /** A write-off without a reason, a note without text, an assignment without an assignee. */
  reasonRequired: 'BREAK_REASON_REQUIRED',
  /** The actor is missing: every change records who made it. */
  actorRequired: 'BREAK_ACTOR_REQUIRED',
  /** A filter or paging value that cannot be right (limit, date, cursor, state). */
  badFilter: 'BREAK_BAD_FILTER',
} as const;
export type BreakCode = (typeof BREAK_CODES)[keyof typeof BREAK_CODES];

/** A break action or query refused its input; the message names the break, state or field. */
export class BreakError extends PayhooksError {
  declare readonly code: BreakCode;
}
