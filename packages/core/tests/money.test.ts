import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MoneyError } from '../src/errors.ts';
import { currencyExponent, decimalToMinor, minorToDecimal, money, normalizeCurrency } from '../src/money.ts';

describe('decimalToMinor', () => {
  it('converts major-unit strings exactly, per exponent', () => {
    expect(decimalToMinor('10.00', 2)).toBe(1000n);
    expect(decimalToMinor('0.01', 2)).toBe(1n);
    expect(decimalToMinor('-1.5', 2)).toBe(-150n);
    expect(decimalToMinor('1000', 0)).toBe(1000n);
    expect(decimalToMinor('1.234', 3)).toBe(1234n);
    expect(decimalToMinor('0.77000', 2)).toBe(77n);
    expect(decimalToMinor('0.77000', 5)).toBe(77000n);
    expect(decimalToMinor('92233720368547758.07', 2)).toBe(9223372036854775807n);
  });

  it('refuses to round', () => {
    expect(() => decimalToMinor('0.005', 2)).toThrow(MoneyError);
    expect(() => decimalToMinor('1.5', 0)).toThrow(MoneyError);
  });

  it('rejects what is not a decimal', () => {
    for (const bad of ['', 'abc', '1e3', '1.2.3', '--1', '0x10', 'NaN', ' . ']) {
      expect(() => decimalToMinor(bad, 2), bad).toThrow(MoneyError);
    }
  });

  it('round-trips with minorToDecimal for any amount and exponent', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.integer({ min: 0, max: 5 }),
        (amount, exponent) => {
          expect(decimalToMinor(minorToDecimal(amount, exponent), exponent)).toBe(amount);
        },
      ),
    );
  });
});

describe('currencies', () => {
  it('knows zero- and three-decimal currencies', () => {
    expect(currencyExponent('jpy')).toBe(0);
    expect(currencyExponent('KRW')).toBe(0);
    expect(currencyExponent('kwd')).toBe(3);
    expect(currencyExponent('CNY')).toBe(2);
    expect(normalizeCurrency(' usd ')).toBe('USD');
    expect(() => normalizeCurrency('US')).toThrow(MoneyError);
  });

  it('refuses non-integer minor amounts', () => {
    expect(() => money(1.5, 'USD')).toThrow(MoneyError);
    expect(money(150, 'usd')).toEqual({ amountMinor: 150n, currency: 'USD' });
  });
});
