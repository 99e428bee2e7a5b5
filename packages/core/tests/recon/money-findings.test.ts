// Findings about src/money.ts made while building the recon parsers, now fixed there: commas are never
// stripped, so a decimal comma or a stray comma is an error, not a silent 100× amount.
import { describe, expect, it } from 'vitest';
import { MoneyError } from '../../src/errors.ts';
import { currencyExponent, decimalToMinor } from '../../src/money.ts';
import { parseAmount, parseBalanceChangeReport, stripeCurrencyExponent } from '../../src/recon/index.ts';
import { collect } from './helpers.ts';

describe('money.ts decimalToMinor rejects commas', () => {
  it('decimalToMinor rejects a comma inside the fraction ("0.1,5" is not 0.15)', () => {
    expect(() => decimalToMinor('0.1,5', 2)).toThrow(MoneyError);
  });

  it('decimalToMinor rejects a decimal comma ("10,00" is not 1000.00)', () => {
    expect(() => decimalToMinor('10,00', 2)).toThrow(MoneyError);
  });

  it('parseAmount (used by every recon parser) rejects both, and handles a declared decimal comma', () => {
    expect(() => parseAmount('0.1,5', 2)).toThrowError(expect.objectContaining({ code: 'MONEY_FORMAT' }));
    expect(() => parseAmount('10,00', 2)).toThrowError(expect.objectContaining({ code: 'MONEY_FORMAT' }));
    expect(() => parseAmount('1,000.00', 2)).toThrowError(expect.objectContaining({ code: 'MONEY_FORMAT' }));
    expect(parseAmount('10,00', 2, ',')).toBe(1000n);
    expect(parseAmount(' -0.18000 ', 5)).toBe(-18000n);
    expect(parseAmount('1000', 0)).toBe(1000n);
  });
});

describe('ISK: ISO exponent 0, but Stripe API amounts use two decimals', () => {
  it('currencyExponent follows ISO; the Stripe report parser follows Stripe so rows compare with API amounts', async () => {
    expect(currencyExponent('ISK')).toBe(0);
    expect(stripeCurrencyExponent('isk')).toBe(2);
    const csv =
      'balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category\n' +
      'txn_1,2025-03-01 00:00:00,isk,5.00,0.00,5.00,charge\n';
    const rows = await collect(parseBalanceChangeReport(csv));
    expect(rows[0]?.grossMinor).toBe(500n);
  });
});
