// Turns parsed Stripe report rows into staged lines: which ledger object each row speaks about, the amount the
// ledger must show for it, and the provider's state in the ledger's vocabulary. Fees and other balance changes
// cannot match a ledger object and are staged for the totals.
import type { ReconLine } from '../run/types.ts';
import {
  type StripeBalanceChangeRow,
  type StripePayoutReconciliationRow,
  type StripePayoutRow,
  stripeCurrencyExponent,
} from './report-format.ts';

const STRIPE_KIND: Record<string, ReconLine['kind']> = {
  charge: 'payment',
  payment: 'payment',
  refund: 'refund',
  payout: 'payout',
  fee: 'fee',
};

/**
 * A balance_change_from_activity row. Charges compare gross with the ledger payment (keyed by the PaymentIntent,
 * or the bare charge when there is none); refunds compare −gross with the ledger refund (source_id re_…).
 */
export function balanceChangeLine(
  row: StripeBalanceChangeRow,
  options: { orderMetadataKey: string; source?: string },
): ReconLine {
  const category = row.reportingCategory;
  const kind = STRIPE_KIND[category] ?? 'other';
  const isRefund = kind === 'refund';
  const paymentId = row.paymentIntentId ?? row.chargeId ?? (kind === 'payment' ? row.sourceId : null);
  return {
    source: options.source ?? 'balance_change',
    lineNo: row.line,
    kind,
    subAccount: row.connectedAccountId,
    providerPaymentId: kind === 'payment' || isRefund ? paymentId : null,
    providerRefundId: isRefund ? row.sourceId : null,
    merchantOrderNo: row.metadata[options.orderMetadataKey] ?? null,
    merchantRefundNo: null,
    reference: row.balanceTransactionId,
    payoutId: row.automaticPayoutId,
    amountMinor: isRefund ? -row.grossMinor : row.grossMinor,
    feeScaled: row.feeMinor,
    feeScale: stripeCurrencyExponent(row.currency),
    currency: row.currency,
    // A balance transaction exists only for money that moved: the charge or refund succeeded.
    status: kind === 'payment' || isRefund ? 'succeeded' : category,
    providerStatus: category,
    occurredAt: row.createdUtc,
  };
}

/** A payouts.itemized row: compared with the payout mirrored from payout.* events (stripe.payouts). */
export function payoutLine(row: StripePayoutRow, source = 'payouts'): ReconLine {
  return {
    source,
    lineNo: row.line,
    kind: 'payout',
    subAccount: null,
    providerPaymentId: null,
    providerRefundId: null,
    merchantOrderNo: null,
    merchantRefundNo: null,
    reference: row.balanceTransactionId,
    payoutId: row.payoutId,
    amountMinor: row.grossMinor,
    feeScaled: row.feeMinor,
    feeScale: stripeCurrencyExponent(row.currency),
    currency: row.currency,
    status: row.status,
    providerStatus: row.status,
    occurredAt: row.effectiveAtUtc,
  };
}

/**
 * A payout_reconciliation.itemized row: a balance transaction as the payout that settles it lists it. It is a
 * second view of money the balance_change report already states, so it is staged as a `settlement` line, which
 * matching, totals and fees/net leave alone; payout-links.ts links it to its payout (the report is authoritative
 * for which transactions a payout settles) and adds up each payout. Amount and fee as the report signs them.
 */
export function settlementLine(
  row: StripePayoutReconciliationRow,
  source = 'payout_reconciliation',
): ReconLine {
  const kind = STRIPE_KIND[row.reportingCategory];
  return {
    source,
    lineNo: row.line,
    kind: 'settlement',
    subAccount: row.connectedAccountId,
    providerPaymentId: row.paymentIntentId ?? row.chargeId,
    providerRefundId: kind === 'refund' ? row.sourceId : null,
    merchantOrderNo: null,
    merchantRefundNo: null,
    reference: row.balanceTransactionId,
    payoutId: row.automaticPayoutId,
    amountMinor: row.grossMinor,
    feeScaled: row.feeMinor,
    feeScale: stripeCurrencyExponent(row.currency),
    currency: row.currency,
    status: row.reportingCategory,
    providerStatus: row.reportingCategory,
    occurredAt: row.createdUtc,
  };
}
