// Decimal amounts in provider files → exact minor units, refusing anything but a plain decimal.
import { MoneyError } from '../errors.ts';
import { decimalToMinor } from '../money.ts';

const PLAIN_DECIMAL = /^[+-]?\d+(?:\.\d+)?$/;

/**
 * Strict front door to `decimalToMinor`: accepts only `[+-]digits[.digits]` (after trimming spaces), with `.` or the
 * given decimal separator. `decimalToMinor` alone strips every comma anywhere in the text, so "0.1,5" or a
 * European "10,00" would be read as 0.15 and 1000.00 — provider files are never allowed to reach it unchecked.
 * Throws MoneyError (MONEY_FORMAT or MONEY_PRECISION).
 */
export function parseAmount(text: string, exponent: number, decimalSeparator: '.' | ',' = '.'): bigint {
  const trimmed = text.trim();
  const normalized = decimalSeparator === ',' ? trimmed.replace(',', '.') : trimmed;
  if (!PLAIN_DECIMAL.test(normalized))
    throw new MoneyError('MONEY_FORMAT', `not a decimal amount: "${text}"`);
  return decimalToMinor(normalized, exponent);
}
