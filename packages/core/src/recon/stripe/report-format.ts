// Stripe report CSVs (Reports API): column names of the report types reconciliation reads, and the row types.
// Amounts are major-unit decimals in the row's currency; the rows carry exact minor units.
import { currencyExponent, normalizeCurrency } from '../../money.ts';

/**
 * Decimals of a currency's minor unit as Stripe's API counts them, so report rows compare with API amounts in the
 * ledger: the ISO exponent (JPY 0, USD 2, KWD 3), except ISK, which Stripe documents as a special case still
 * represented with two decimals ("to charge 5 ISK, provide an amount of 500") although ISO gives it none.
 */
export function stripeCurrencyExponent(currency: string): number {
  return normalizeCurrency(currency) === 'ISK' ? 2 : currencyExponent(currency);
}

export const STRIPE_REPORT_TYPES = {
  balanceChange: 'balance_change_from_activity.itemized.3',
  payouts: 'payouts.itemized.3',
  payoutReconciliation: 'payout_reconciliation.itemized.5',
  /** The same report of a connected account (run with the `connected_account` parameter). */
  connectedAccountPayoutReconciliation: 'connected_account_payout_reconciliation.itemized.5',
} as const;
export type StripeReportType = (typeof STRIPE_REPORT_TYPES)[keyof typeof STRIPE_REPORT_TYPES];

/** Columns of balance_change_from_activity.itemized.3 that become typed fields. */
export const BALANCE_CHANGE_COLUMNS = {
  balanceTransactionId: 'balance_transaction_id',
  createdUtc: 'created_utc',
  availableOnUtc: 'available_on_utc',
  currency: 'currency',
  gross: 'gross',
  fee: 'fee',
  net: 'net',
  reportingCategory: 'reporting_category',
  sourceId: 'source_id',
  description: 'description',
  customerFacingAmount: 'customer_facing_amount',
  customerFacingCurrency: 'customer_facing_currency',
  automaticPayoutId: 'automatic_payout_id',
  customerId: 'customer_id',
  chargeId: 'charge_id',
  paymentIntentId: 'payment_intent_id',
  invoiceId: 'invoice_id',
  paymentMethodType: 'payment_method_type',
  connectedAccountId: 'connected_account_id',
} as const;
export type BalanceChangeColumnKey = keyof typeof BALANCE_CHANGE_COLUMNS;

export const REQUIRED_BALANCE_CHANGE_COLUMNS: readonly BalanceChangeColumnKey[] = [
  'balanceTransactionId',
  'createdUtc',
  'currency',
  'gross',
  'fee',
  'net',
  'reportingCategory',
];

/** Columns of payouts.itemized.3 that become typed fields. */
export const PAYOUT_COLUMNS = {
  payoutId: 'payout_id',
  effectiveAtUtc: 'effective_at_utc',
  currency: 'currency',
  gross: 'gross',
  fee: 'fee',
  net: 'net',
  reportingCategory: 'reporting_category',
  description: 'description',
  expectedArrivalDate: 'payout_expected_arrival_date',
  status: 'payout_status',
  reversedAtUtc: 'payout_reversed_at_utc',
  type: 'payout_type',
  payoutDescription: 'payout_description',
  destinationId: 'payout_destination_id',
  balanceTransactionId: 'balance_transaction_id',
} as const;
export type PayoutColumnKey = keyof typeof PAYOUT_COLUMNS;

export const REQUIRED_PAYOUT_COLUMNS: readonly PayoutColumnKey[] = [
  'payoutId',
  'effectiveAtUtc',
  'currency',
  'gross',
  'fee',
  'net',
];

/**
 * Columns of payout_reconciliation.itemized.5 that become typed fields: one row per balance transaction an
 * automatic payout settles, for the payouts whose `automatic_payout_effective_at` (the day the funds leave the
 * balance for the bank) falls in the report's interval.
 */
export const PAYOUT_RECONCILIATION_COLUMNS = {
  automaticPayoutId: 'automatic_payout_id',
  automaticPayoutEffectiveAtUtc: 'automatic_payout_effective_at_utc',
  balanceTransactionId: 'balance_transaction_id',
  createdUtc: 'created_utc',
  availableOnUtc: 'available_on_utc',
  currency: 'currency',
  gross: 'gross',
  fee: 'fee',
  net: 'net',
  reportingCategory: 'reporting_category',
  sourceId: 'source_id',
  description: 'description',
  customerId: 'customer_id',
  chargeId: 'charge_id',
  paymentIntentId: 'payment_intent_id',
  connectedAccountId: 'connected_account_id',
} as const;
export type PayoutReconciliationColumnKey = keyof typeof PAYOUT_RECONCILIATION_COLUMNS;

export const REQUIRED_PAYOUT_RECONCILIATION_COLUMNS: readonly PayoutReconciliationColumnKey[] = [
  'automaticPayoutId',
  'balanceTransactionId',
  'createdUtc',
  'currency',
  'gross',
  'fee',
  'net',
  'reportingCategory',
];

/** `payment_metadata[order_id]` → `order_id`. */
export const PAYMENT_METADATA_COLUMN = /^payment_metadata\[(.+)\]$/;

export interface StripeBalanceChangeRecord {
  balanceTransactionId: string;
  createdUtc: Date;
  availableOnUtc: Date | null;
  /** Upper-case ISO 4217 (the report writes lower case). */
  currency: string;
  grossMinor: bigint;
  feeMinor: bigint;
  netMinor: bigint;
  reportingCategory: string;
  sourceId: string | null;
  description: string | null;
  /** Amount the customer saw, in `customerFacingCurrency`'s minor units. */
  customerFacingAmountMinor: bigint | null;
  customerFacingCurrency: string | null;
  automaticPayoutId: string | null;
  customerId: string | null;
  chargeId: string | null;
  paymentIntentId: string | null;
  invoiceId: string | null;
  paymentMethodType: string | null;
  connectedAccountId: string | null;
  /** `payment_metadata[key]` columns (non-empty values only). */
  metadata: Record<string, string>;
  /** Every other column, by its CSV name (non-empty values only), e.g. `created`, `refund_metadata[x]`. */
  extra: Record<string, string>;
}

export interface StripeBalanceChangeRow extends StripeBalanceChangeRecord {
  /** Line of the CSV where the record ends (1-based, header = line 1). */
  line: number;
}

export interface StripePayoutRecord {
  payoutId: string;
  effectiveAtUtc: Date;
  currency: string;
  grossMinor: bigint;
  feeMinor: bigint;
  netMinor: bigint;
  reportingCategory: string | null;
  description: string | null;
  /** `YYYY-MM-DD` as written. */
  expectedArrivalDate: string | null;
  status: string | null;
  reversedAtUtc: Date | null;
  type: string | null;
  payoutDescription: string | null;
  destinationId: string | null;
  balanceTransactionId: string | null;
  metadata: Record<string, string>;
  extra: Record<string, string>;
}

export interface StripePayoutRow extends StripePayoutRecord {
  line: number;
}

export interface StripePayoutReconciliationRecord {
  automaticPayoutId: string;
  automaticPayoutEffectiveAtUtc: Date | null;
  balanceTransactionId: string;
  createdUtc: Date;
  availableOnUtc: Date | null;
  currency: string;
  grossMinor: bigint;
  feeMinor: bigint;
  netMinor: bigint;
  reportingCategory: string;
  sourceId: string | null;
  description: string | null;
  customerId: string | null;
  chargeId: string | null;
  paymentIntentId: string | null;
  connectedAccountId: string | null;
  metadata: Record<string, string>;
  extra: Record<string, string>;
}

export interface StripePayoutReconciliationRow extends StripePayoutReconciliationRecord {
  line: number;
}

export interface StripeCurrencyTotals {
  count: number;
  grossMinor: bigint;
  feeMinor: bigint;
  netMinor: bigint;
}

/** Per-currency totals of a parsed report (Stripe reports carry no summary row to verify against). */
export interface StripeReportSummary {
  reportType: StripeReportType;
  columns: readonly string[];
  rowCount: number;
  totalsByCurrency: Record<string, StripeCurrencyTotals>;
}
