// Money is integer minor units (bigint) plus an upper-case ISO 4217 code. Decimal strings are parsed
// digit by digit: no floating point ever touches an amount.
import { MoneyError } from './errors.ts';

export interface Money {
  readonly amountMinor: bigint;
  readonly currency: string;
}

// ISO 4217 currencies whose minor unit is not 2 decimals. Stripe's zero-decimal list
// (docs "Zero-decimal currencies") agrees with ISO except where Stripe notes special cases.
const ZERO_DECIMAL = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'ISK',
  'JPY',
  'KMF',
  'KRW',
  'MGA',
  'PYG',
  'RWF',
  'UGX',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
]);
const THREE_DECIMAL = new Set(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']);

export function normalizeCurrency(code: string): string {
  const upper = code.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(upper))
    throw new MoneyError('MONEY_CURRENCY', `not an ISO 4217 currency code: "${code}"`);
  return upper;
}

/** Number of decimals of the currency's minor unit (JPY 0, USD 2, KWD 3). */
export function currencyExponent(currency: string): number {
  const c = normalizeCurrency(currency);
  if (ZERO_DECIMAL.has(c)) return 0;
  if (THREE_DECIMAL.has(c)) return 3;
  return 2;
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

/**
 * Converts a decimal string in major units to integer minor units with `exponent` decimals.
 * Extra decimals are accepted only when they are zeros ("0.77000" with exponent 2 is 77); anything that
 * would need rounding is an error, because rounding money silently hides breaks.
 */
export function decimalToMinor(text: string, exponent: number): bigint {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new MoneyError('MONEY_FORMAT', `not a decimal amount: "${text}"`);
  const [, sign, whole = '0', fraction = ''] = match;
  const kept = fraction.slice(0, exponent).padEnd(exponent, '0');
  const dropped = fraction.slice(exponent);
  if (/[1-9]/.test(dropped)) {
    throw new MoneyError(
      'MONEY_PRECISION',
      `amount "${text}" has more than ${exponent} significant decimals`,
    );
  }
  const magnitude = BigInt(whole + kept);
  return sign === '-' ? -magnitude : magnitude;
}

/**
 * Like decimalToMinor but keeps sub-minor precision by scaling to `scale` decimals
 * (WeChat fees have 5 decimals: "0.77000" at scale 5 is 77000n).
 */
export function decimalToScaled(text: string, scale: number): bigint {
  return decimalToMinor(text, scale);
}

export function minorToDecimal(amountMinor: bigint, exponent: number): string {
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  const fraction = exponent === 0 ? '' : `.${digits.slice(-exponent)}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

export function money(amountMinor: bigint | number, currency: string): Money {
  if (typeof amountMinor === 'number' && !Number.isSafeInteger(amountMinor)) {
    throw new MoneyError('MONEY_NOT_INTEGER', `minor-unit amount must be a safe integer, got ${amountMinor}`);
  }
  return { amountMinor: BigInt(amountMinor), currency: normalizeCurrency(currency) };
}
