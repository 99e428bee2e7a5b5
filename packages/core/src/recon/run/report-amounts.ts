// How a run shows amounts: the currency's exponent in the provider's files (Stripe has its own table of zero-decimal
// and special-case currencies, WeChat Pay follows ISO 4217) and minor units as decimal text.
import type { Provider } from '../../ledger/changes.ts';
import { currencyExponent, minorToDecimal } from '../../money.ts';
import { stripeCurrencyExponent } from '../stripe/report-format.ts';
import type { ReconItem } from './types.ts';

export function providerCurrencyExponent(provider: Provider, currency: string): number {
  return provider === 'stripe' ? stripeCurrencyExponent(currency) : currencyExponent(currency);
}

/** Exponents already looked up, per provider and currency text (a report asks once per row). */
const exponents = new Map<string, number>();

function cachedExponent(provider: Provider, currency: string): number {
  const key = `${provider}:${currency}`;
  let exponent = exponents.get(key);
  if (exponent === undefined) {
    exponent = providerCurrencyExponent(provider, currency);
    if (exponents.size < 1024) exponents.set(key, exponent);
  }
  return exponent;
}

/** Minor units as a decimal in the currency's exponent (2 when the currency is unknown); '' for no amount. */
export function amountText(provider: Provider, minor: bigint | null, currency: string | null): string {
  if (minor === null) return '';
  return minorToDecimal(minor, currency ? cachedExponent(provider, currency) : 2);
}

/** The provider's fee of an item at its own scale (WeChat 5 decimals); '' for none. */
export function feeText(item: ReconItem): string {
  return item.feeScaled === null || item.feeScale === null
    ? ''
    : minorToDecimal(item.feeScaled, item.feeScale);
}
