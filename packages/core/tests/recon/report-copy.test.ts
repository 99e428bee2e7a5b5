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
});
