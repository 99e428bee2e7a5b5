import { writeBalanceChangeReport, writePayoutsReport } from '@payhooks/testkit/reports/report-writer';
import { describe, expect, it } from 'vitest';
import { MoneyError } from '../../src/errors.ts';
import {
  parseBalanceChangeReport,
  parsePayoutReconciliationReport,
  parsePayoutsReport,
  REPORT_FORMAT_CODES,
  ReportFormatError,
  type StripeBalanceChangeRecord,
} from '../../src/recon/index.ts';
import { stripeReportKind } from '../../src/recon/stripe/report-file.ts';
import { byteChunks, caught, collect, text } from './helpers.ts';

// Columns in an order of their own, with extra columns Stripe may add and two payment_metadata columns.
const HEADER =
  'balance_transaction_id,created_utc,created,currency,gross,fee,net,reporting_category,source_id,description,' +
  'customer_id,charge_id,payment_intent_id,invoice_id,automatic_payout_id,payment_metadata[order_id],' +
  'payment_metadata[tenant],card_brand';

const REPORT = [
  HEADER,
  'txn_1,2025-03-01 00:30:00,2025-03-01 00:30:00,usd,10.00,0.59,9.41,charge,ch_1,"Coffee, large",cus_1,ch_1,pi_1,,po_1,ORDER-1,acme,visa',
  'txn_2,2025-03-01 01:00:00,2025-03-01 01:00:00,jpy,1000,36,964,charge,ch_2,"multi\nline ""quoted""",,ch_2,pi_2,in_2,,ORDER-2,,',
  'txn_3,2025-03-01 02:00:00,2025-03-01 02:00:00,kwd,1.234,0.035,1.199,charge,ch_3,,,ch_3,pi_3,,,,,',
  'txn_4,2025-03-01 03:00:00,2025-03-01 03:00:00,usd,-1.5,0,-1.5,refund,re_1,,,ch_1,pi_1,,,ORDER-1,,',
  'txn_5,2025-03-01 04:00:00,2025-03-01 04:00:00,usd,0.00,15.00,-15.00,dispute_fee,dp_1,,,,,,,,,',
].join('\r\n');

const replaceLine = (index: number, line: string) => {
  const lines = REPORT.split('\r\n');
  lines[index] = line;
  return lines.join('\n');
};

describe('parseBalanceChangeReport', () => {
  it('maps columns by name, converts amounts exactly per currency exponent, captures payment_metadata', async () => {
    const report = parseBalanceChangeReport(`\uFEFF${REPORT}\r\n`);
    const rows = await collect(report);
    expect(
      rows.map((r) => [r.balanceTransactionId, r.currency, r.grossMinor, r.feeMinor, r.netMinor]),
    ).toEqual([
      ['txn_1', 'USD', 1000n, 59n, 941n],
      ['txn_2', 'JPY', 1000n, 36n, 964n],
      ['txn_3', 'KWD', 1234n, 35n, 1199n],
      ['txn_4', 'USD', -150n, 0n, -150n],
      ['txn_5', 'USD', 0n, 1500n, -1500n],
    ]);
    expect(rows[0]).toMatchObject({
      line: 2,
      createdUtc: new Date('2025-03-01T00:30:00Z'),
      reportingCategory: 'charge',
      sourceId: 'ch_1',
      description: 'Coffee, large',
      customerId: 'cus_1',
      chargeId: 'ch_1',
      paymentIntentId: 'pi_1',
      invoiceId: null,
      automaticPayoutId: 'po_1',
      availableOnUtc: null,
      metadata: { order_id: 'ORDER-1', tenant: 'acme' },
      extra: { created: '2025-03-01 00:30:00', card_brand: 'visa' },
    });
    expect(rows[1]).toMatchObject({
      description: 'multi\nline "quoted"',
      invoiceId: 'in_2',
      customerId: null,
      line: 4,
    });
    expect(rows[2]?.metadata).toEqual({});
    expect(report.summary()).toEqual({
      reportType: 'balance_change_from_activity.itemized.3',
      columns: HEADER.split(','),
      rowCount: 5,
      totalsByCurrency: {
        USD: { count: 3, grossMinor: 850n, feeMinor: 1559n, netMinor: -709n },
        JPY: { count: 1, grossMinor: 1000n, feeMinor: 36n, netMinor: 964n },
        KWD: { count: 1, grossMinor: 1234n, feeMinor: 35n, netMinor: 1199n },
      },
    });
  });

  it('reads bytes cut into tiny chunks the same way', async () => {
    const bytes = new TextEncoder().encode(`\uFEFF${REPORT}`);
    const chunked = await collect(parseBalanceChangeReport(byteChunks(bytes, 3)));
    expect(chunked).toEqual(await collect(parseBalanceChangeReport(REPORT)));
  });

  it.each([
    ['10.001', 'usd', 'MONEY_PRECISION'],
    ['100.5', 'jpy', 'MONEY_PRECISION'],
    ['1.2345', 'kwd', 'MONEY_PRECISION'],
    ['1e3', 'usd', 'MONEY_FORMAT'],
    ['1,000.00', 'usd', 'MONEY_FORMAT'],
    ['', 'usd', 'MONEY_FORMAT'],
  ])('rejects gross %j in %s as REPORT_BAD_AMOUNT (%s)', async (gross, currency, moneyCode) => {
    const line = `txn_9,2025-03-01 00:00:00,,${currency},${gross.includes(',') ? `"${gross}"` : gross},0,0,charge,,,,,,,,,,`;
    const error = await caught(() =>
      collect(parseBalanceChangeReport(replaceLine(1, line), { checkNet: false })),
    );
    expect(error).toBeInstanceOf(ReportFormatError);
    expect(error).toMatchObject({ code: REPORT_FORMAT_CODES.badAmount, line: 2, column: 'gross' });
    expect((error as Error).cause).toBeInstanceOf(MoneyError);
    expect((error as Error & { cause: MoneyError }).cause.code).toBe(moneyCode);
  });

  it('accepts extra zero decimals ("1000.00" JPY) since no precision is lost', async () => {
    const line = 'txn_9,2025-03-01 00:00:00,,jpy,1000.00,0.0,1000,charge,,,,,,,,,,';
    const rows = await collect(parseBalanceChangeReport(replaceLine(1, line)));
    expect(rows[0]?.grossMinor).toBe(1000n);
  });

  it('reads a report run with decimal_separator ","', async () => {
    const csv = [
      'balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category',
      'txn_1,2025-03-01 00:00:00,eur,"10,50","0,30","10,20",charge',
    ].join('\n');
    const rows = await collect(parseBalanceChangeReport(csv, { decimalSeparator: ',' }));
    expect(rows[0]).toMatchObject({ currency: 'EUR', grossMinor: 1050n, feeMinor: 30n, netMinor: 1020n });
    const misread = await caught(() => collect(parseBalanceChangeReport(csv)));
    expect(misread).toMatchObject({ code: REPORT_FORMAT_CODES.badAmount });
  });

  it('rejects a row whose gross − fee ≠ net', async () => {
    const line = 'txn_9,2025-03-01 00:00:00,,usd,10.00,0.59,9.40,charge,,,,,,,,,,';
    const error = await caught(() => collect(parseBalanceChangeReport(replaceLine(1, line))));
    expect(error).toMatchObject({ code: REPORT_FORMAT_CODES.netMismatch, line: 2 });
  });

  it('rejects a missing required column, naming it', async () => {
    const csv = 'balance_transaction_id,created_utc,currency,gross,net,reporting_category\n';
    const error = await caught(() => collect(parseBalanceChangeReport(csv)));
    expect(error).toMatchObject({ code: REPORT_FORMAT_CODES.missingColumn, column: 'fee' });
  });

  it('rejects a duplicated column, a short row, a bad time, a bad currency', async () => {
    const dup = await caught(() => collect(parseBalanceChangeReport(`${HEADER},currency\n`)));
    expect(dup).toMatchObject({ code: REPORT_FORMAT_CODES.duplicateColumn });
    const short = await caught(() =>
      collect(parseBalanceChangeReport(replaceLine(1, 'txn_1,2025-03-01 00:00:00'))),
    );
    expect(short).toMatchObject({ code: REPORT_FORMAT_CODES.fieldCount, line: 2 });
    const time = await caught(() =>
      collect(parseBalanceChangeReport(replaceLine(1, 'txn_9,1740787200,,usd,1,0,1,charge,,,,,,,,,,'))),
    );
    expect(time).toMatchObject({ code: REPORT_FORMAT_CODES.badValue, column: 'created_utc' });
    const currency = await caught(() =>
      collect(
        parseBalanceChangeReport(
          replaceLine(1, 'txn_9,2025-03-01 00:00:00,,us dollar,1,0,1,charge,,,,,,,,,,'),
        ),
      ),
    );
    expect(currency).toMatchObject({ code: REPORT_FORMAT_CODES.badValue, column: 'currency' });
  });

  it('rejects broken CSV quoting and invalid UTF-8', async () => {
    const quote = await caught(() =>
      collect(parseBalanceChangeReport(replaceLine(1, 'txn_1,"unterminated'))),
    );
    expect(quote).toMatchObject({ code: REPORT_FORMAT_CODES.csv });
    const bytes = Buffer.concat([Buffer.from(`${HEADER}\ntxn_`), Buffer.from([0xc3, 0x28])]);
    const utf8 = await caught(() => collect(parseBalanceChangeReport(bytes)));
    expect(utf8).toMatchObject({ code: REPORT_FORMAT_CODES.encoding });
  });

  it('rejects an empty report and parses a header-only one as zero rows', async () => {
    expect(await caught(() => collect(parseBalanceChangeReport('')))).toMatchObject({
      code: REPORT_FORMAT_CODES.headerMissing,
    });
    const report = parseBalanceChangeReport(`${HEADER}\n`);
    expect(await collect(report)).toEqual([]);
    expect(report.summary()).toMatchObject({ rowCount: 0, totalsByCurrency: {} });
  });

  it('accepts ISO-style UTC times as well', async () => {
    const line = 'txn_9,2025-03-01T23:59:59Z,,usd,1,0,1,charge,,,,,,,,,,';
    const rows = await collect(parseBalanceChangeReport(replaceLine(1, line)));
    expect(rows[0]?.createdUtc.toISOString()).toBe('2025-03-01T23:59:59.000Z');
  });

  it('summary() before the end is REPORT_INCOMPLETE', () => {
    expect(() => parseBalanceChangeReport(REPORT).summary()).toThrowError(
      expect.objectContaining({ code: REPORT_FORMAT_CODES.incomplete }),
    );
  });
});

describe('parsePayoutsReport', () => {
  it('reads payouts.itemized.3', async () => {
    const csv = [
      'payout_id,effective_at_utc,effective_at,currency,gross,fee,net,reporting_category,description,' +
        'payout_expected_arrival_date,payout_status,payout_reversed_at_utc,payout_type,payout_description,' +
        'payout_destination_id,balance_transaction_id',
      'po_1,2025-03-02 00:00:00,2025-03-02 00:00:00,jpy,-50000,0,-50000,payout,STRIPE PAYOUT,2025-03-03,paid,,bank_account,,ba_1,txn_p1',
    ].join('\n');
    const report = parsePayoutsReport(csv);
    const rows = await collect(report);
    expect(rows[0]).toMatchObject({
      payoutId: 'po_1',
      effectiveAtUtc: new Date('2025-03-02T00:00:00Z'),
      currency: 'JPY',
      grossMinor: -50000n,
      netMinor: -50000n,
      expectedArrivalDate: '2025-03-03',
      status: 'paid',
      reversedAtUtc: null,
      type: 'bank_account',
      destinationId: 'ba_1',
      balanceTransactionId: 'txn_p1',
      extra: { effective_at: '2025-03-02 00:00:00' },
    });
    expect(report.summary().totalsByCurrency.JPY?.netMinor).toBe(-50000n);
  });
});

describe('report writers', () => {
  const record: StripeBalanceChangeRecord = {
    balanceTransactionId: 'txn_1',
    createdUtc: new Date('2025-03-01T00:30:00Z'),
    availableOnUtc: new Date('2025-03-03T00:00:00Z'),
    currency: 'KWD',
    grossMinor: 1234n,
    feeMinor: 35n,
    netMinor: 1199n,
    reportingCategory: 'charge',
    sourceId: 'ch_1',
    description: ' spaced, "quoted"\nnewline ',
    customerFacingAmountMinor: 400000n,
    customerFacingCurrency: 'JPY',
    automaticPayoutId: null,
    customerId: null,
    chargeId: 'ch_1',
    paymentIntentId: 'pi_1',
    invoiceId: null,
    paymentMethodType: 'card',
    connectedAccountId: null,
    metadata: { order_id: '订单-1' },
    extra: { created: '2025-03-01 00:30:00' },
  };

  it('writes a balance change CSV that parses back to the same record', async () => {
    const csv = await text(
      writeBalanceChangeReport([record], { metadataKeys: ['order_id'], extraColumns: ['created'] }),
    );
    expect(csv.split('\n')[1]).toContain(',kwd,1.234,0.035,1.199,');
    const rows = await collect(parseBalanceChangeReport(csv));
    expect(rows).toEqual([{ ...record, line: 3 }]);
  });

  it('refuses metadata keys it was not told about', async () => {
    const error = await caught(() => text(writeBalanceChangeReport([record])));
    expect(error).toMatchObject({ code: REPORT_FORMAT_CODES.unencodable });
  });

  it('writes a payouts CSV that parses back', async () => {
    const payout = {
      payoutId: 'po_1',
      effectiveAtUtc: new Date('2025-03-02T00:00:00Z'),
      currency: 'USD',
      grossMinor: -10050n,
      feeMinor: 0n,
      netMinor: -10050n,
      reportingCategory: 'payout',
      description: null,
      expectedArrivalDate: '2025-03-03',
      status: 'paid',
      reversedAtUtc: null,
      type: 'bank_account',
      payoutDescription: null,
      destinationId: 'ba_1',
      balanceTransactionId: 'txn_p1',
      metadata: {},
      extra: {},
    };
    const rows = await collect(parsePayoutsReport(writePayoutsReport([payout])));
    expect(rows).toEqual([{ ...payout, line: 2 }]);
  });
});

describe('parsePayoutReconciliationReport', () => {
  // Stripe's itemized payout reconciliation (default column order: the payout first), with columns we do not read.
  const header =
    'automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,created,available_on_utc,' +
    'available_on,currency,gross,fee,net,reporting_category,source_id,description,customer_facing_amount,' +
    'customer_facing_currency,regulatory_tag,automatic_payout_effective_at_utc,customer_id,charge_id,payment_intent_id';
  const csv = [
    header,
    'po_1,2025-03-03 00:00:00,txn_1,2025-03-01 10:00:00,2025-03-01 10:00:00,2025-03-03 00:00:00,2025-03-03 00:00:00,usd,10.00,0.59,9.41,charge,ch_1,"Coffee, large",10.00,usd,,2025-03-03 00:00:00,cus_1,ch_1,pi_1',
    'po_1,2025-03-03 00:00:00,txn_2,2025-03-02 10:00:00,2025-03-02 10:00:00,2025-03-03 00:00:00,2025-03-03 00:00:00,usd,-2.00,0.00,-2.00,refund,re_1,,,,,2025-03-03 00:00:00,,ch_1,pi_1',
    'po_2,2025-03-03 00:00:00,txn_3,2025-03-02 11:00:00,2025-03-02 11:00:00,2025-03-03 00:00:00,2025-03-03 00:00:00,jpy,1000,36,964,charge,ch_3,,,,,2025-03-03 00:00:00,,ch_3,pi_3',
  ].join('\r\n');

  it('reads each transaction with its payout, amounts exact per currency, and is told apart by its header', async () => {
    const rows = await collect(parsePayoutReconciliationReport(`\uFEFF${csv}\r\n`));
    expect(
      rows.map((r) => [
        r.automaticPayoutId,
        r.balanceTransactionId,
        r.currency,
        r.grossMinor,
        r.feeMinor,
        r.netMinor,
      ]),
    ).toEqual([
      ['po_1', 'txn_1', 'USD', 1000n, 59n, 941n],
      ['po_1', 'txn_2', 'USD', -200n, 0n, -200n],
      ['po_2', 'txn_3', 'JPY', 1000n, 36n, 964n],
    ]);
    expect(rows[0]).toMatchObject({
      automaticPayoutEffectiveAtUtc: new Date('2025-03-03T00:00:00Z'),
      reportingCategory: 'charge',
      paymentIntentId: 'pi_1',
      description: 'Coffee, large',
      extra: { created: '2025-03-01 10:00:00', customer_facing_amount: '10.00' },
    });
    expect(stripeReportKind(header, 'x.csv')).toBe('payout_reconciliation');
    expect(stripeReportKind(HEADER, 'y.csv')).toBe('balance_change');
  });

  it('rejects a report without automatic_payout_id, naming the column', async () => {
    const error = await caught(() =>
      collect(
        parsePayoutReconciliationReport(
          'balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category\n',
        ),
      ),
    );
    expect(error).toMatchObject({ code: REPORT_FORMAT_CODES.missingColumn, column: 'automatic_payout_id' });
  });
});
