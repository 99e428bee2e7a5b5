// The bytes of the report CSVs: quoting, the formula guard, BOM and CRLF, pinned as literal text so a change of CSV
// writer (hand-written csv-record.ts, or csv-stringify, which was measured) cannot change what finance downloads.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReconItem } from '../../src/recon/run/index.ts';
import { breaksCsv, csvRecords, writeMatchedCsv } from '../../src/recon/run/report-csv.ts';

const item = (overrides: Partial<ReconItem>): ReconItem => ({
  class: 'matched',
  kind: 'payment',
  source: 'tradebill',
  lineNo: 2,
  providerPaymentId: '4200000001',
  providerRefundId: null,
  merchantOrderNo: 'ORDER-1',
  merchantRefundNo: null,
  payoutId: null,
  billAmountMinor: 1250n,
  ledgerAmountMinor: 1250n,
  billCurrency: 'CNY',
  ledgerCurrency: 'CNY',
  billStatus: 'succeeded',
  billProviderStatus: 'SUCCESS',
  ledgerStatus: 'succeeded',
  feeScaled: 7500n,
  feeScale: 5,
  occurredAt: new Date('2025-03-01T00:30:00Z'),
  detail: null,
  healedFrom: null,
  healNote: null,
  ...overrides,
});

describe('report CSV bytes', () => {
  it('quotes delimiters, quotes, line breaks and edge whitespace, and guards formulas', () => {
    const text = csvRecords([
      ['a', 'b,c', 'say "hi"', 'line\nbreak', ' lead', 'trail ', '', null, undefined],
      ['=1+1', '+86 10', '@SUM(A1)', '-cmd', '-12.50', '\rx', '中文', 'ORDER-1'],
    ]);
    expect(text).toBe(
      'a,"b,c","say ""hi""","line\nbreak"," lead","trail ",,,\r\n' +
        "'=1+1,'+86 10,'@SUM(A1),'-cmd,-12.50,\"'\rx\",中文,ORDER-1\r\n",
    );
  });

  it('breaks.csv is a BOM, the header and one CRLF line per reported item', () => {
    const text = breaksCsv('wechatpay', [
      item({}),
      item({ class: 'amount_mismatch', ledgerAmountMinor: 1200n, merchantOrderNo: '=HYPERLINK("x")' }),
    ]);
    const lines = text.split('\r\n');
    expect(text.startsWith('\uFEFFclass,healed,kind,provider_payment_id,')).toBe(true);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe(
      'amount_mismatch,false,payment,4200000001,,,"\'=HYPERLINK(""x"")",,CNY,12.50,CNY,12.00,succeeded,SUCCESS,succeeded,' +
        '0.07500,2025-03-01T00:30:00.000Z,tradebill,2,,amounts differ: compare the provider order with the ledger ' +
        'row and the merchant order,,,,',
    );
    expect(lines[2]).toBe('');
  });

  it('breaks.csv ends with the break id, age in days and state from the break register', () => {
    const text = breaksCsv(
      'wechatpay',
      [item({ class: 'missing_in_ledger', ledgerAmountMinor: null }), item({ class: 'pending_next_bill' })],
      (reported) =>
        reported.class === 'missing_in_ledger' ? { breakId: 42n, ageDays: 3, state: 'open' } : undefined,
    );
    const [header, missing, pending] = text.slice(1).split('\r\n');
    expect(header!.endsWith(',heal_note,break_id,age_days,break_state')).toBe(true);
    expect(missing!.endsWith(',42,3,open')).toBe(true);
    // Informational rows are not breaks: no identity.
    expect(pending!.endsWith(',,,')).toBe(true);
  });

  it('matched.csv streams pages after a BOM and the header', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'report-csv-'));
    try {
      const file = path.join(dir, 'matched.csv');
      async function* pages() {
        yield [item({})];
        yield [item({ lineNo: 3, merchantOrderNo: 'a, b', billCurrency: 'JPY', billAmountMinor: 500n })];
      }
      await writeMatchedCsv('stripe', pages(), file);
      expect(await readFile(file, 'utf8')).toBe(
        '\uFEFFkind,provider_payment_id,provider_refund_id,payout_id,merchant_order_no,merchant_refund_no,currency,' +
          'amount,status,provider_fee,occurred_at_utc,source,line,healed_from\r\n' +
          'payment,4200000001,,,ORDER-1,,CNY,12.50,succeeded,0.07500,2025-03-01T00:30:00.000Z,tradebill,2,\r\n' +
          'payment,4200000001,,,"a, b",,JPY,500,succeeded,0.07500,2025-03-01T00:30:00.000Z,tradebill,3,\r\n',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
