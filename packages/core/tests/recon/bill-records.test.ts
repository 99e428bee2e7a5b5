// The load's byte-level trade bill path (TradeBillStaging) against the parser path it replaces in the load:
// parseTradeBill → tradeBillStagingRecord. On any bill — generated, hand-written, or damaged byte by byte — both
// stage the same bytes with the same summary, or fail with the same error (class, code, message, line, column).
import { writeTradeBill } from '@payhooks/testkit/bills/bill-writer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTradeBill, type TradeBillRecord } from '../../src/recon/index.ts';
import { stagingRecordPrefix, tradeBillStagingRecord } from '../../src/recon/run/index.ts';
import { TradeBillStaging } from '../../src/recon/wechatpay/bill-records.ts';
import {
  byteChunks,
  collect,
  TRADE_HEADER_ALL,
  TRADE_SUMMARY_HEADER,
  tradeBillAllLines,
  tradeRecord,
  valueRow,
} from './helpers.ts';

const PREFIX = stagingRecordPrefix('run-"1"', 'tradebill');

type Outcome =
  | { ok: true; staged: string; summary: unknown; rows: number }
  | { ok: false; error: Record<string, unknown> };

function described(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { thrown: String(error) };
  const { name, message } = error;
  const fields = error as unknown as Record<string, unknown>;
  return { name, message, code: fields.code, line: fields.line, column: fields.column, total: fields.total };
}

async function viaParser(bytes: Uint8Array, chunk: number, maxLineLength?: number): Promise<Outcome> {
  try {
    const parser = parseTradeBill(byteChunks(bytes, chunk), { maxLineLength });
    const staged = (await collect(parser)).map((row) => tradeBillStagingRecord(PREFIX, row));
    return { ok: true, staged: staged.join(''), summary: parser.summary(), rows: staged.length };
  } catch (error) {
    return { ok: false, error: described(error) };
  }
}

async function viaBytes(bytes: Uint8Array, chunk: number, maxLineLength?: number): Promise<Outcome> {
  const staging = new TradeBillStaging(PREFIX, { maxLineLength });
  try {
    async function* source() {
      yield* byteChunks(bytes, chunk);
    }
    const chunks = await collect(staging.chunks(source()));
    const records = chunks.reduce((sum, c) => sum + c.records, 0);
    const staged = Buffer.concat(chunks.map((c) => c.bytes)).toString('utf8');
    expect(staged.split('\n').length - 1).toBe(records);
    return { ok: true, staged, summary: staging.summary(), rows: staging.rows };
  } catch (error) {
    return { ok: false, error: described(error) };
  }
}

async function expectSame(bytes: Uint8Array, chunk = 1 << 20, maxLineLength?: number): Promise<Outcome> {
  const expected = await viaParser(bytes, chunk, maxLineLength);
  expect(await viaBytes(bytes, chunk, maxLineLength)).toEqual(expected);
  return expected;
}

const encoder = new TextEncoder();
const bill = (lines: string[], ending = '\n') => encoder.encode(lines.join(ending));
async function written(records: TradeBillRecord[], options: Parameters<typeof writeTradeBill>[1] = {}) {
  return encoder.encode((await collect(writeTradeBill(records, options))).join(''));
}

describe('TradeBillStaging stages what parseTradeBill + tradeBillStagingRecord stage', () => {
  it('on the hand-written ALL bill (refund with a negative fee, 5-decimal fee, commas in 商品名称), LF and CRLF, BOM', async () => {
    for (const ending of ['\n', '\r\n']) {
      for (const bom of ['', '\uFEFF']) {
        const lines = tradeBillAllLines();
        lines[0] = bom + lines[0];
        const outcome = await expectSame(bill(lines, ending), 7);
        expect(outcome).toMatchObject({ ok: true, rows: 3 });
      }
    }
  });

  it('on damaged hand-written bills: the same error for the same bad bill', async () => {
    const good = tradeBillAllLines();
    const row = good[1]!;
    const withRow = (line: string) => bill([good[0]!, line, ...good.slice(2)]);
    const cases: Uint8Array[] = [
      withRow(row.replace('`128.00', '`128.001')), // 3 decimals
      withRow(row.replace('`0.77000', '`0.770001')), // 6-decimal fee
      withRow(row.replace('`CNY', '`cny')), // lower-case currency (accepted, normalised)
      withRow(row.replace('`CNY', '`RMB1')),
      withRow(row.replace('`CNY', '`JPY')), // summary still agrees: currencies are not summed apart
      withRow(row.replace('2025-03-01 00:30:00', '2025-02-30 00:30:00')),
      withRow(row.replace('2025-03-01 00:30:00', '2025-03-01 24:00:00')),
      withRow(row.replace('2025-03-01 00:30:00', '2025/03/01T00:30:00')),
      withRow(row.replace('2025-03-01 00:30:00', ' 2025-03-01 00:30:00 ')),
      withRow(row.replace('`ORDER-1', '`ORDER,`1')), // ",`" inside a value: one field too many
      withRow(row.replace('`ORDER-1', '`OR"DER"-1')),
      withRow(row.replace('`0`', '` 1900000109 `')), // 特约商户号 with spaces
      withRow(row.replace('`128.00', '`-128.00')),
      withRow(row.replace('`128.00', '`+128.00')),
      withRow(row.replace('`128.00', '` 128.00')),
      withRow(row.replace('`128.00', '`')),
      withRow(`${row},\`extra`),
      bill([...good.slice(0, -1), valueRow('3', '129.00', '30.00', '0.00', '0.59601', '129.00', '30.00')]),
      bill([...good.slice(0, -1), valueRow('4', '129.00', '30.00', '0.00', '0.59600', '129.00', '30.00')]),
      bill(good.slice(0, -2)), // truncated: no summary
      bill([...good, 'trailing']),
      bill(good.slice(1)), // no header
      bill([]),
      encoder.encode('\uFEFF'),
      encoder.encode('\r\n\r\n'),
      bill([good[0]!, '', row, '   ', ...good.slice(2)]), // blank lines (line numbers count them)
      Buffer.concat([Buffer.from(`${TRADE_HEADER_ALL}\n\``), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]),
      Buffer.from(`${TRADE_HEADER_ALL}\n中`).subarray(0, -1),
      Buffer.concat([Buffer.from(`${TRADE_HEADER_ALL}\n${row}`), Buffer.from([0xed, 0xa0, 0x80])]),
    ];
    for (const bytes of cases) {
      for (const chunk of [1, 2, 3, 5, 64, 1 << 20]) await expectSame(bytes, chunk);
    }
    const long = encoder.encode(`${TRADE_HEADER_ALL}\n\`${'x'.repeat(5000)}`);
    for (const chunk of [1, 700, 4096, 1 << 20]) {
      expect(await expectSame(long, chunk, 1000)).toMatchObject({ ok: false, error: { line: 2 } });
    }
    // A limit in characters, not bytes: the longest line of the good bill fits exactly, one more character fails.
    const longest = Math.max(...good.map((line) => line.length));
    const longestAt = good.findIndex((line) => line.length === longest);
    const longer = good.map((line, i) => (i === longestAt ? `${line}中` : line));
    expect(await expectSame(bill(longer), 64, longest)).toMatchObject({ ok: false });
    expect(await expectSame(bill(good), 64, longest)).toMatchObject({ ok: true });
  });

  it('on the SUCCESS and REFUND bill types (absent columns, refund times)', async () => {
    const records = [
      tradeRecord(),
      tradeRecord({
        tradeState: 'REFUND',
        refundId: '50300000012025030100000001',
        outRefundNo: 'RF-1',
        refundAmountFen: 3000n,
        requestedRefundAmountFen: 3000n,
        refundStatus: 'SUCCESS',
        feeMicro: -18000n,
        refundRequestedAt: new Date('2025-03-01T02:00:00Z'),
        refundSucceededAt: new Date('2025-03-01T02:05:07Z'),
      }),
    ];
    for (const billType of ['ALL', 'SUCCESS', 'REFUND'] as const) {
      expect(await expectSame(await written(records, { billType }), 13)).toMatchObject({ ok: true });
    }
  });

  // Mostly the common shape (the byte path's own), sometimes beyond it (the parser's path within the byte path).
  const amount = fc.oneof(
    { arbitrary: fc.bigInt({ min: 0n, max: 10n ** 7n }), weight: 12 },
    { arbitrary: fc.bigInt({ min: -(10n ** 16n), max: 10n ** 16n }), weight: 1 },
  );
  const text = fc.oneof(
    fc.constantFrom(
      '',
      '0',
      'SUCCESS',
      'REFUND',
      ' success ',
      'PROCESSING',
      'Weird"State',
      '商品, 1"',
      ' 42 ',
    ),
    fc.string({ unit: 'grapheme', maxLength: 6 }).map((s) => s.replace(/[`\r\n]/g, '')),
  );
  const instant = fc
    .date({
      min: new Date('1990-01-01T00:00:00Z'),
      max: new Date('2099-12-31T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000));
  const recordArb = fc
    .record({
      tradeTime: instant,
      subMchid: fc.option(fc.constantFrom('1900000109', ' 19 ', 'A"B'), { nil: null }),
      transactionId: text,
      outTradeNo: text,
      tradeState: text,
      currency: fc.constantFrom('CNY', 'JPY', 'KWD'),
      settlementAmountFen: amount,
      couponAmountFen: amount,
      refundRequestedAt: fc.option(instant, { nil: null }),
      refundSucceededAt: fc.option(instant, { nil: null }),
      refundId: fc.option(fc.constantFrom('503000001', '0x', 'R"1'), { nil: null }),
      outRefundNo: fc.option(fc.constantFrom('RF-1', 'RF 2'), { nil: null }),
      refundAmountFen: amount,
      rechargeCouponRefundFen: amount,
      refundStatus: text,
      feeMicro: fc.oneof(
        { arbitrary: fc.bigInt({ min: -(10n ** 6n), max: 10n ** 6n }), weight: 12 },
        { arbitrary: fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }), weight: 1 },
      ),
      orderAmountFen: amount,
      requestedRefundAmountFen: amount,
    })
    .map((fields) => tradeRecord(fields));
  const billArb = fc.record({
    records: fc.array(recordArb, { maxLength: 10 }),
    billType: fc.constantFrom('ALL' as const, 'SUCCESS' as const, 'REFUND' as const),
    bom: fc.boolean(),
    lineEnding: fc.constantFrom('\n' as const, '\r\n' as const),
    chunk: fc.integer({ min: 1, max: 97 }),
  });

  it('on generated bills of every type, at any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(billArb, async ({ records, chunk, ...options }) => {
        await expectSame(await written(records, options), chunk);
      }),
      { numRuns: 200 },
    );
  });

  it('on generated bills damaged byte by byte', async () => {
    const damage = fc.array(
      fc.record({
        at: fc.nat(),
        cut: fc.integer({ min: 0, max: 3 }),
        insert: fc.constantFrom(
          '',
          '"',
          ' ',
          '-',
          '.',
          '0',
          '9',
          ',`',
          '`',
          '\n',
          '\r',
          'x',
          '中',
          '\uFEFF',
          '\xff',
        ),
      }),
      { minLength: 1, maxLength: 3 },
    );
    await fc.assert(
      fc.asyncProperty(billArb, damage, async ({ records, chunk, ...options }, edits) => {
        let bytes = Buffer.from(await written(records, options));
        for (const edit of edits) {
          const at = edit.at % (bytes.length + 1);
          const insert = edit.insert === '\xff' ? Buffer.from([0xff]) : Buffer.from(edit.insert, 'utf8');
          bytes = Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(at + edit.cut)]);
        }
        await expectSame(bytes, chunk);
      }),
      { numRuns: 400 },
    );
  });

  it('keeps sums exact beyond 2^53 (many large rows)', async () => {
    const big = tradeRecord({
      orderAmountFen: 999_999_999_999_99n,
      settlementAmountFen: 999_999_999_999_99n,
    });
    const outcome = await expectSame(await written(Array.from({ length: 300 }, () => big)), 4096);
    expect(outcome).toMatchObject({ ok: true, rows: 300 });
    expect(TRADE_SUMMARY_HEADER).toContain('订单总金额');
  });
});
