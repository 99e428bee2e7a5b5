// matched.csv by COPY TO STDOUT must give the very bytes of the reference writer (writeMatchedCsv over the cursor
// pages): real Postgres, a reconciled day whose staged lines are then given the awkward values finance sees —
// commas, quotes, CJK, formula-leading text, numbers with a sign, edge whitespace (ASCII and U+3000), CR/LF.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchedItemPages, reconcile, wechatpaySource } from '../../src/recon/run/index.ts';
import { copyMatchedCsv, MatchedCsvFromCopy, matchedCopyStatement } from '../../src/recon/run/report-copy.ts';
import { writeMatchedCsv } from '../../src/recon/run/report-csv.ts';
import {
  billApi,
  billText,
  insertPayment,
  MCHID,
  MemoryStore,
  silentLogger,
  tradeRecord,
} from './reconcile-helpers.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const AWKWARD = [
  'a, b',
  'say "hi"',
  '商品,订单 “引号”',
  '=HYPERLINK("x")',
  '+86 123',
  '-12.50',
  '-1x',
  '@SUM(A1)',
  '\tTAB',
  ' lead',
  'trail ',
  '\u3000全角',
  'line\r\nbreak',
  "it's",
  '',
  // Longer than the transform's output buffer: plain ASCII (copied as bytes) and text that is decoded.
  'L'.repeat(150_000),
  `${'长'.repeat(70_000)}, "x"`,
];

describe('matched.csv through COPY', () => {
  it('has the same bytes as the reference writer, awkward cells included', async () => {
    const records = [];
    for (let i = 0; i < AWKWARD.length + 5; i += 1) {
      const id = `C${String(i).padStart(3, '0')}`;
      await insertPayment(db.sql, { id, amount: 7n + BigInt(i) * 1001n, orderNo: `ORD-${id}` });
      records.push(
        tradeRecord({
          transactionId: id,
          outTradeNo: `ORD-${id}`,
          orderAmountFen: 7n + BigInt(i) * 1001n,
          settlementAmountFen: 7n + BigInt(i) * 1001n,
        }),
      );
    }
    const store = new MemoryStore();
    const result = await reconcile(
      {
        sql: db.sql,
        store,
        clock: { now: () => new Date('2025-03-02T03:00:00Z') },
        logger: silentLogger,
        newRunId: () => 'copy-run-1',
      },
      {
        source: wechatpaySource(billApi({ trade: await billText(records) }), {
          mchid: MCHID,
          businessDate: '2025-03-01',
        }),
        businessDate: '2025-03-01',
      },
    );
    expect(result.status).toBe('succeeded');
    const runId = result.runId!;
    for (const [i, value] of AWKWARD.entries()) {
      await db.sql`update recon_lines set merchant_order_no = ${value}, status = ${value === '' ? null : value}
        where run_id = ${runId} and provider_payment_id = ${`C${String(i).padStart(3, '0')}`}`;
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), 'report-copy-'));
    try {
      await writeMatchedCsv('wechatpay', matchedItemPages(db.sql, runId, 4), path.join(dir, 'ref.csv'));
      await copyMatchedCsv(db.sql, 'wechatpay', runId, path.join(dir, 'copy.csv'));
      const reference = await readFile(path.join(dir, 'ref.csv'));
      const copied = await readFile(path.join(dir, 'copy.csv'));
      expect(copied.toString('utf8')).toBe(reference.toString('utf8'));
      expect(copied.equals(reference)).toBe(true);
      // The awkward values really are in it (guarded and quoted), so the comparison is not of two empty files.
      const text = reference.toString('utf8');
      expect(text).toContain(`"'=HYPERLINK(""x"")"`);
      expect(text).toContain(',-12.50,');
      expect(text).toContain("'-1x");
      expect(text.split('\r\n').length).toBeGreaterThan(AWKWARD.length + 5);
      // The same COPY bytes cut into 7-byte chunks (tuples, lengths and UTF-8 characters split across chunks).
      const raw: Buffer[] = [];
      for await (const chunk of await db.sql.unsafe(matchedCopyStatement(runId)).readable())
        raw.push(chunk as Buffer);
      const bytes = Buffer.concat(raw);
      const header = reference.subarray(0, reference.indexOf('\r\n') + 2);
      const transform = new MatchedCsvFromCopy('wechatpay', header);
      const out: Buffer[] = [];
      transform.on('data', (chunk: Buffer) => out.push(chunk));
      const ended = new Promise((resolve, reject) => transform.on('end', resolve).on('error', reject));
      for (let at = 0; at < bytes.length; at += 7) transform.write(bytes.subarray(at, at + 7));
      transform.end();
      await ended;
      expect(Buffer.concat(out).toString('utf8')).toBe(reference.toString('utf8'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes every time cell as Date#toISOString would', async () => {
    // Microseconds since 2000-01-01 UTC, as COPY binary sends a timestamptz: day and year boundaries, leap days,
    // before 1970 and 2000, far years (extended year form), and random ones within ± 2^53.
    const micros: bigint[] = [0n, -1n, -999n, -1000n, -1001n, 999n, 1000n, 86_399_999_999n, 86_400_000_000n];
    const at = (iso: string, extraMicros = 0n) =>
      (BigInt(Date.parse(iso)) - 946_684_800_000n) * 1000n + extraMicros;
    for (const iso of [
      '1970-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '1900-02-28T23:59:59.999Z',
      '2000-02-29T12:34:56.789Z',
      '2024-02-29T23:59:59.999Z',
      '2025-03-01T15:59:59.999Z',
      '2025-03-01T16:00:00.000Z',
      '2100-03-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      '+010000-01-01T00:00:00.000Z',
      '0000-01-01T00:00:00.000Z',
      '-000001-12-31T23:59:59.999Z',
    ])
      micros.push(at(iso), at(iso, 1n), at(iso, 999n));
    let seed = 7n;
    for (let i = 0; i < 2000; i += 1) {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
      micros.push((seed % 2n ** 54n) - 2n ** 53n);
    }
    const tuple = (value: bigint) => {
      const cells = [
        'payment',
        'P1',
        null,
        null,
        'O1',
        null,
        'CNY',
        '100',
        'succeeded',
        '0',
        '5',
        'T',
        'trade',
        '1',
        null,
      ];
      const parts: Buffer[] = [Buffer.from([0, cells.length])];
      for (const cellValue of cells) {
        const bytes =
          cellValue === 'T' ? Buffer.alloc(8) : cellValue === null ? null : Buffer.from(cellValue, 'utf8');
        if (cellValue === 'T') bytes!.writeBigInt64BE(value);
        const length = Buffer.alloc(4);
        length.writeInt32BE(bytes === null ? -1 : bytes.length);
        parts.push(length, ...(bytes ? [bytes] : []));
      }
      return Buffer.concat(parts);
    };
    const transform = new MatchedCsvFromCopy('wechatpay');
    const out: Buffer[] = [];
    transform.on('data', (chunk: Buffer) => out.push(chunk));
    const ended = new Promise((resolve, reject) => transform.on('end', resolve).on('error', reject));
    transform.write(Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]));
    for (const value of micros) transform.write(tuple(value));
    transform.end(Buffer.from([0xff, 0xff]));
    await ended;
    const times = Buffer.concat(out)
      .toString('latin1')
      .split('\r\n')
      .filter((record) => record !== '')
      .map((record) => record.split(',')[10]);
    expect(times).toEqual(
      micros.map((value) => new Date(946_684_800_000 + Math.floor(Number(value) / 1000)).toISOString()),
    );
  });
});
