// Property tests: writer → parser round-trips exactly for generated rows, and on arbitrary or mutated input the
// parsers throw only the documented error types (never a TypeError, RangeError or a raw library error).
import { createHash, generateKeyPairSync } from 'node:crypto';
import { Readable } from 'node:stream';
import * as BillFixtures from '@payhooks/testkit/bills/bill-fixtures';
import { writeFundFlowBill, writeTradeBill } from '@payhooks/testkit/bills/bill-writer';
import { writeBalanceChangeReport } from '@payhooks/testkit/reports/report-writer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecryptError } from '../../src/errors.ts';
import {
  BillFormatError,
  BillHashMismatchError,
  type FundFlowBillRecord,
  openBill,
  openBillParts,
  parseBalanceChangeReport,
  parseFundFlowBill,
  parseTradeBill,
  ReportFormatError,
  type StripeBalanceChangeRecord,
  type TradeBillRecord,
} from '../../src/recon/index.ts';
import {
  type SourceFile,
  stagingCsvLine,
  stagingRecordPrefix,
  tradeBillLine,
  tradeBillStagingRecord,
  wechatpaySource,
} from '../../src/recon/run/index.ts';
import {
  byteChunks,
  collect,
  FUND_FLOW_HEADER_FULLWIDTH,
  fundFlowLines,
  TRADE_HEADER_ALL,
  tradeBillAllLines,
} from './helpers.ts';

const encoder = new TextEncoder();

/** Unicode text with plenty of commas and quotes, but without what bills cannot carry (backtick, CR, LF). */
const billText = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 6 }),
      fc.constantFrom(',', ', ', '，', '"', ' ', '商品'),
    ),
    {
      maxLength: 5,
    },
  )
  .map((parts) => parts.join('').replace(/[`\r\n]/g, ''));
const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/);
const optionalId = fc.option(fc.stringMatching(/^[A-Za-z1-9][A-Za-z0-9]{0,31}$/), { nil: null });
const instant = fc
  .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000));
const fen = fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n });

const tradeRecordArb: fc.Arbitrary<TradeBillRecord> = fc.record({
  tradeTime: instant,
  appid: billText,
  mchid: id,
  subMchid: optionalId,
  deviceInfo: billText,
  transactionId: id,
  outTradeNo: billText,
  openid: billText,
  tradeType: billText,
  tradeState: fc.constantFrom('SUCCESS', 'REFUND', 'REVOKED'),
  bankType: billText,
  currency: fc.constantFrom('CNY', 'USD', 'HKD'),
  settlementAmountFen: fen,
  couponAmountFen: fen,
  refundRequestedAt: fc.constant(null),
  refundSucceededAt: fc.constant(null),
  refundId: optionalId,
  outRefundNo: optionalId,
  refundAmountFen: fen,
  rechargeCouponRefundFen: fen,
  refundType: billText,
  refundStatus: billText,
  productName: billText,
  attach: billText,
  feeMicro: fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }),
  feeRate: billText,
  orderAmountFen: fen,
  requestedRefundAmountFen: fen,
  rateNote: billText,
});

const fundFlowRecordArb: fc.Arbitrary<FundFlowBillRecord> = fc.record({
  bookedAt: instant,
  businessId: billText,
  flowId: billText,
  businessName: billText,
  businessType: billText,
  direction: fc.constantFrom('income' as const, 'expense' as const),
  amountFen: fen,
  balanceFen: fen,
  applicant: billText,
  note: billText,
  voucherNo: billText,
});

const options = fc.record({
  bom: fc.boolean(),
  lineEnding: fc.constantFrom('\n' as const, '\r\n' as const),
  chunk: fc.integer({ min: 1, max: 97 }),
});

async function bytesOf(chunks: AsyncIterable<string>): Promise<Uint8Array> {
  return encoder.encode((await collect(chunks)).join(''));
}

const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);
const abs = (v: bigint) => (v < 0n ? -v : v);

describe('round trips', () => {
  it('trade bill: writer → parser gives back every record exactly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(tradeRecordArb, { maxLength: 12 }), options, async (records, opts) => {
        const bytes = await bytesOf(writeTradeBill(records, opts));
        const bill = parseTradeBill(byteChunks(bytes, opts.chunk));
        const rows = await collect(bill);
        expect(rows.map(({ line: _l, feeFen: _f, ...rest }) => rest)).toEqual(records);
        for (const row of rows)
          expect(
            row.feeFen === null ? row.feeMicro % 1000n !== 0n : row.feeFen * 1000n === row.feeMicro,
          ).toBe(true);
        const summary = bill.summary();
        expect(summary.rowCount).toBe(records.length);
        expect(summary.settlementTotalFen).toBe(sum(records.map((r) => r.settlementAmountFen)));
        expect(summary.feeTotalMicro).toBe(sum(records.map((r) => r.feeMicro)));
        expect(summary.requestedRefundTotalFen).toBe(sum(records.map((r) => r.requestedRefundAmountFen)));
      }),
      { numRuns: 150 },
    );
  });

  it('fund-flow bill: writer → parser gives back every record exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fundFlowRecordArb, { maxLength: 12 }),
        options,
        fc.constantFrom('ascii' as const, 'fullwidth' as const),
        async (records, opts, yuanSuffix) => {
          const bytes = await bytesOf(writeFundFlowBill(records, { ...opts, yuanSuffix }));
          const bill = parseFundFlowBill(byteChunks(bytes, opts.chunk));
          const rows = await collect(bill);
          expect(rows.map(({ line: _l, signedAmountFen: _s, ...rest }) => rest)).toEqual(records);
          const expense = records.filter((r) => r.direction === 'expense');
          expect(bill.summary().expenseFen).toBe(sum(expense.map((r) => abs(r.amountFen))));
          expect(bill.summary().expenseCount).toBe(expense.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  const csvText = fc
    .array(
      fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 6 }),
        fc.constantFrom(',', '"', '\n', '\r\n', ' ', '中'),
      ),
      {
        maxLength: 5,
      },
    )
    .map((parts) => parts.join(''));
  const nonBlank = csvText.filter((s) => s.trim() !== '');
  const stripeRecordArb: fc.Arbitrary<StripeBalanceChangeRecord> = fc
    .record({
      balanceTransactionId: fc.stringMatching(/^txn_[A-Za-z0-9]{1,24}$/),
      createdUtc: instant,
      availableOnUtc: fc.option(instant, { nil: null }),
      currency: fc.constantFrom('USD', 'JPY', 'KWD', 'EUR', 'BHD'),
      grossMinor: fen,
      feeMinor: fen,
      reportingCategory: nonBlank,
      sourceId: fc.option(nonBlank, { nil: null }),
      description: fc.option(nonBlank, { nil: null }),
      customerFacingAmountMinor: fc.option(fen, { nil: null }),
      customerFacingCurrency: fc.constantFrom('USD', 'JPY', 'KWD'),
      automaticPayoutId: fc.option(id, { nil: null }),
      customerId: fc.option(id, { nil: null }),
      chargeId: fc.option(id, { nil: null }),
      paymentIntentId: fc.option(id, { nil: null }),
      invoiceId: fc.option(id, { nil: null }),
      paymentMethodType: fc.option(id, { nil: null }),
      connectedAccountId: fc.option(id, { nil: null }),
      metadata: fc.dictionary(fc.constantFrom('order_id', 'tenant', '订单'), nonBlank),
    })
    .map((r) => ({
      ...r,
      netMinor: r.grossMinor - r.feeMinor,
      customerFacingCurrency: r.customerFacingAmountMinor === null ? null : r.customerFacingCurrency,
      extra: {},
    }));

  it('Stripe balance change report: writer → parser gives back every record exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stripeRecordArb, { maxLength: 10 }),
        fc.integer({ min: 1, max: 97 }),
        async (records, chunk) => {
          const bytes = await bytesOf(
            writeBalanceChangeReport(records, { metadataKeys: ['order_id', 'tenant', '订单'] }),
          );
          const report = parseBalanceChangeReport(byteChunks(bytes, chunk));
          const rows = await collect(report);
          expect(rows.map(({ line: _l, ...rest }) => rest)).toEqual(records);
          expect(report.summary().rowCount).toBe(records.length);
        },
      ),
      { numRuns: 150 },
    );
  });
});

/** Applies random edits (deletions, and insertions of characters that matter to the formats). */
const mutations = fc.array(
  fc.record({
    at: fc.nat(),
    remove: fc.nat({ max: 4 }),
    insert: fc.constantFrom(
      '',
      '`',
      ',',
      ',`',
      '\n',
      '\r\n',
      '0',
      '-',
      '.',
      '9',
      '中',
      'x',
      ' ',
      '"',
      '\uFEFF',
      '(元)',
    ),
  }),
  { minLength: 1, maxLength: 4 },
);
function mutate(text: string, edits: { at: number; remove: number; insert: string }[]): string {
  let out = text;
  for (const edit of edits) {
    const at = out.length === 0 ? 0 : edit.at % (out.length + 1);
    out = out.slice(0, at) + edit.insert + out.slice(at + edit.remove);
  }
  return out;
}

async function onlyThrows(
  run: () => Promise<unknown>,
  ...types: Array<abstract new (...args: never[]) => Error>
) {
  try {
    await run();
  } catch (error) {
    if (!types.some((type) => error instanceof type)) throw error;
  }
}

describe('parsers throw only documented errors', () => {
  const validTrade = tradeBillAllLines().join('\r\n');
  const validFund = fundFlowLines().join('\n');

  it('trade and fund-flow parsers on mutated bills', async () => {
    await fc.assert(
      fc.asyncProperty(mutations, fc.integer({ min: 1, max: 64 }), async (edits, chunk) => {
        const trade = encoder.encode(mutate(validTrade, edits));
        await onlyThrows(() => collect(parseTradeBill(byteChunks(trade, chunk))), BillFormatError);
        const fund = encoder.encode(mutate(validFund, edits));
        await onlyThrows(() => collect(parseFundFlowBill(byteChunks(fund, chunk))), BillFormatError);
      }),
      { numRuns: 400 },
    );
  });

  it('trade and fund-flow parsers on arbitrary text and bytes', async () => {
    const valueLines = fc
      .array(
        fc
          .array(fc.string({ maxLength: 8 }), { maxLength: 30 })
          .map((values) => values.map((v) => `\`${v}`).join(',')),
        {
          maxLength: 6,
        },
      )
      .map((lines) => lines.join('\n'));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          valueLines.map((rows) => `${TRADE_HEADER_ALL}\n${rows}`),
          valueLines.map((rows) => `${FUND_FLOW_HEADER_FULLWIDTH}\n${rows}`),
        ),
        fc.uint8Array({ maxLength: 200 }),
        async (input, bytes) => {
          await onlyThrows(() => collect(parseTradeBill(input)), BillFormatError);
          await onlyThrows(() => collect(parseFundFlowBill(input)), BillFormatError);
          await onlyThrows(() => collect(parseTradeBill(bytes)), BillFormatError);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('Stripe report parser on mutated and arbitrary CSV', async () => {
    const valid = [
      'balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,payment_metadata[order_id]',
      'txn_1,2025-03-01 00:00:00,usd,10.00,0.59,9.41,charge,"A, B"',
      'txn_2,2025-03-01 00:00:00,jpy,1000,36,964,charge,',
    ].join('\n');
    await fc.assert(
      fc.asyncProperty(
        mutations,
        fc.string(),
        fc.integer({ min: 1, max: 64 }),
        async (edits, random, chunk) => {
          const bytes = encoder.encode(mutate(valid, edits));
          await onlyThrows(
            () => collect(parseBalanceChangeReport(byteChunks(bytes, chunk))),
            ReportFormatError,
          );
          await onlyThrows(() => collect(parseBalanceChangeReport(random)), ReportFormatError);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('openBill on arbitrary bytes (plain, gzip, encrypted) throws only bill errors', async () => {
    const key = BillFixtures.newBillKey();
    const hash = await BillFixtures.sha1Hex(validTrade);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          mutations.map((edits) => BillFixtures.packBill(mutate(validTrade, edits)).body),
        ),
        fc.constantFrom(true, false, 'auto' as const),
        fc.boolean(),
        async (body, gzip, encrypted) => {
          const opened = openBill(body, {
            expectedSha1: hash,
            gzip,
            ...(encrypted ? { decryption: { key, nonce: 'nonce-1234567890' } } : {}),
          });
          await onlyThrows(
            () => collect(parseTradeBill(opened)),
            BillFormatError,
            BillHashMismatchError,
            DecryptError,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('openBillParts with corrupted parts throws only bill errors', async () => {
    const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const downloads = BillFixtures.packEncryptedBill(validFund, {
      merchantPublicKey: merchant.publicKey,
      parts: 2,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.nat({ max: 1 }),
        async (at, flip, which) => {
          const parts = downloads.map((d, index) => {
            if (index !== which) return d;
            const body = Buffer.from(d.body);
            const position = at % body.length;
            body[position] = (body[position] ?? 0) ^ flip;
            return { ...d, body };
          });
          const error = await (async () => {
            try {
              await collect(
                parseFundFlowBill(openBillParts(parts, { merchantPrivateKey: merchant.privateKey })),
              );
            } catch (e) {
              return e;
            }
          })();
          // Every flipped bit must be detected, never yield a complete bill: as a failed tag check, or — since
          // plaintext streams out before the tag is checked — as damage that gunzip or the parser sees first.
          expect(error instanceof DecryptError || error instanceof BillFormatError).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});

/** Refund statuses as bills write them, plus case, spaces and unknown values (the status mapping's edges). */
const refundStatusArb = fc.oneof(
  fc.constantFrom(
    'SUCCESS',
    ' success ',
    'PROCESSING',
    'REFUNDCLOSE',
    'CHANGE',
    'ABNORMAL',
    '',
    'Weird"State',
  ),
  billText,
);
const stagedTradeRecordArb = fc
  .tuple(
    tradeRecordArb,
    fc.constantFrom('SUCCESS', 'REFUND', 'REVOKED', 'CLOSED', 'NOTPAY', ' payerror ', 'NEW'),
    refundStatusArb,
    fc.constantFrom('CNY', 'JPY', 'KWD'),
  )
  .map(([record, tradeState, refundStatus, currency]) => ({ ...record, tradeState, refundStatus, currency }));

describe('staging records straight from parsed rows', () => {
  it('a trade bill source stages byte for byte what the ReconLine path staged, at any chunking', async () => {
    const runId = 'run-"1"';
    await fc.assert(
      fc.asyncProperty(fc.array(stagedTradeRecordArb, { maxLength: 12 }), options, async (records, opts) => {
        const bytes = await bytesOf(writeTradeBill(records, opts));
        // Chunk sizes 1–97 cut the 3-byte UTF-8 of 商品名称 and the BOM anywhere.
        const open = () =>
          wechatpaySource(
            {
              tradeBill: async () => ({
                empty: false,
                hashType: 'SHA1',
                hashValue: createHash('sha1').update(bytes).digest('hex'),
                downloadUrl: 'mem://trade',
              }),
              fundFlowBill: async () => ({ empty: true, code: 'NO_STATEMENT_EXIST', signed: true }),
              subMerchantFundFlowBill: async () => ({
                empty: true,
                code: 'NO_STATEMENT_EXIST',
                signed: true,
              }),
              download: async () => Readable.from(byteChunks(bytes, opts.chunk)),
            },
            { mchid: '1900000100', businessDate: '2025-03-01' },
          );
        const first = async (source: ReturnType<typeof open>) =>
          (await source.files()[Symbol.asyncIterator]().next()).value as SourceFile;
        const direct = await first(open());
        const viaLines = await first(open());
        const records1 = (await collect(direct.stagingRecords!(runId))).join('');
        const records2 = (await collect(viaLines.lines)).map((line) => stagingCsvLine(runId, line)).join('');
        expect(records1).toBe(records2);
        expect(direct.evidence()).toEqual(viaLines.evidence());
        await direct.dispose();
        await viaLines.dispose();
      }),
      { numRuns: 120 },
    );
  });

  it('tradeBillStagingRecord equals stagingCsvLine(tradeBillLine(row)) for every parsed row', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stagedTradeRecordArb, { maxLength: 12 }), options, async (records, opts) => {
        const bytes = await bytesOf(writeTradeBill(records, opts));
        const rows = await collect(parseTradeBill(byteChunks(bytes, opts.chunk)));
        const prefix = stagingRecordPrefix('r,1', 'tradebill');
        for (const row of rows) {
          expect(tradeBillStagingRecord(prefix, row)).toBe(
            stagingCsvLine('r,1', tradeBillLine(row, 'tradebill')),
          );
        }
      }),
      { numRuns: 150 },
    );
  });
});
